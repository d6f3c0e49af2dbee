#include "app/ui_wx/settings_dialog.h"

#include <wx/app.h>
#include <wx/button.h>
#include <wx/checkbox.h>
#include <wx/choice.h>
#include <wx/intl.h>
#include <wx/radiobut.h>
#include <wx/sizer.h>
#include <wx/statbox.h>
#include <wx/stattext.h>
#include <wx/textctrl.h>
#include <wx/weakref.h>

#include <algorithm>
#include <thread>

#include "app/ui_wx/wx_text.h"

namespace lifeline {
namespace {

constexpr int kConnectTimeoutMs = 8000;

}  // namespace

wxString ProblemLabel(FieldProblem problem) {
  switch (problem) {
    case FieldProblem::kRequired:
      return _("Required");
    case FieldProblem::kPortRange:
      return _("1 to 65535");
    case FieldProblem::kHostSyntax:
      return _("Not a host name");
    case FieldProblem::kTooLong:
      return _("Too long");
    case FieldProblem::kInvalidChars:
      return _("Characters not allowed");
    case FieldProblem::kUnknownValue:
      return _("Not an allowed value");
    case FieldProblem::kAddressSyntax:
      return _("Not HOST:PORT");
    case FieldProblem::kPinSyntax:
      return _("Not 64 hex digits");
  }
  return _("Invalid");
}

RemoteServiceDialog::RemoteServiceDialog(wxWindow* parent, Context context)
    : wxDialog(parent,
               wxID_ANY,
               _("Remote Service"),
               wxDefaultPosition,
               wxDefaultSize,
               wxDEFAULT_DIALOG_STYLE | wxRESIZE_BORDER),
      context_(std::move(context)),
      status_timer_(this) {
  auto* top = new wxBoxSizer(wxVERTICAL);

  // The widest problem text in this language, so the dialog never clips one.
  int problem_width = 0;
  for (FieldProblem p :
       {FieldProblem::kRequired, FieldProblem::kPortRange, FieldProblem::kHostSyntax,
        FieldProblem::kTooLong, FieldProblem::kInvalidChars, FieldProblem::kUnknownValue}) {
    problem_width = std::max(problem_width, GetTextExtent(ProblemLabel(p)).x + 4);
  }
  // A label, the input, and the place for its problem, in one grid row.
  auto row = [this, problem_width](wxWindow* box, wxFlexGridSizer* grid, const wxString& label,
                                   wxTextCtrl** ctrl, long style, RemoteServiceField field) {
    grid->Add(new wxStaticText(box, wxID_ANY, label), 0, wxALIGN_CENTER_VERTICAL);
    *ctrl = new wxTextCtrl(box, wxID_ANY, wxString(), wxDefaultPosition, wxSize(170, -1), style);
    grid->Add(*ctrl, 1, wxEXPAND);
    auto* problem = new wxStaticText(box, wxID_ANY, wxString());
    problem->SetForegroundColour(wxColour(0xb0, 0x00, 0x20));
    problem->SetMinSize(wxSize(problem_width, -1));  // Room for any problem text.
    grid->Add(problem, 0, wxALIGN_CENTER_VERTICAL);
    problems_[field] = problem;
  };
  auto make_grid = [] {
    auto* grid = new wxFlexGridSizer(3, 4, 6);
    grid->AddGrowableCol(1);
    return grid;
  };

  // Remote Service: the back office connection and remote assistance.
  auto* service = new wxStaticBoxSizer(wxVERTICAL, this, _("Remote Service"));
  wxWindow* sbox = service->GetStaticBox();
  enable_ = new wxCheckBox(sbox, wxID_ANY, _("Enable"));
  allow_ = new wxCheckBox(sbox, wxID_ANY, _("Allow remote assistance"));
  service->Add(enable_, 0, wxALL, 4);
  service->Add(allow_, 0, wxALL, 4);
  auto* ids = make_grid();
  row(sbox, ids, _("Service organisation ID:"), &organisation_id_, 0,
      RemoteServiceField::kOrganisationId);
  row(sbox, ids, _("Verification code:"), &verification_code_, 0,
      RemoteServiceField::kVerificationCode);
  ids->Add(new wxStaticText(sbox, wxID_ANY, _("Serial number:")), 0, wxALIGN_CENTER_VERTICAL);
  serial_ =
      new wxTextCtrl(sbox, wxID_ANY, wxString(), wxDefaultPosition, wxDefaultSize, wxTE_READONLY);
  ids->Add(serial_, 1, wxEXPAND);
  ids->AddSpacer(0);
  service->Add(ids, 0, wxEXPAND | wxALL, 4);
  auto* columns = new wxBoxSizer(wxHORIZONTAL);
  auto* left = new wxBoxSizer(wxVERTICAL);
  left->Add(service, 0, wxEXPAND | wxBOTTOM, 8);

  // Proxy server settings.
  auto* proxy = new wxStaticBoxSizer(wxVERTICAL, this, _("Proxy server settings"));
  wxWindow* pbox = proxy->GetStaticBox();
  proxy_auto_ = new wxCheckBox(pbox, wxID_ANY, _("Detect proxy server automatically"));
  proxy_manual_ = new wxCheckBox(pbox, wxID_ANY, _("Enable proxy server"));
  proxy->Add(proxy_auto_, 0, wxALL, 4);
  proxy->Add(proxy_manual_, 0, wxALL, 4);
  auto* where = make_grid();
  row(pbox, where, _("Host name:"), &proxy_host_, 0, RemoteServiceField::kProxyHost);
  row(pbox, where, _("Port:"), &proxy_port_, 0, RemoteServiceField::kProxyPort);
  proxy->Add(where, 0, wxEXPAND | wxLEFT, 24);
  proxy_auth_ = new wxCheckBox(pbox, wxID_ANY, _("Proxy server authentication"));
  proxy->Add(proxy_auth_, 0, wxLEFT | wxTOP, 24);
  auto* login = make_grid();
  row(pbox, login, _("User name:"), &proxy_user_, 0, RemoteServiceField::kProxyUser);
  row(pbox, login, _("Password:"), &proxy_password_, wxTE_PASSWORD,
      RemoteServiceField::kProxyPassword);
  row(pbox, login, _("Domain:"), &proxy_domain_, 0, RemoteServiceField::kProxyDomain);
  proxy->Add(login, 0, wxEXPAND | wxLEFT | wxTOP, 24);

  // The service's credentials.
  auto* account = new wxStaticBoxSizer(wxVERTICAL, this, _("Service credentials"));
  wxWindow* abox = account->GetStaticBox();
  account_local_ = new wxRadioButton(abox, wxID_ANY, _("Local system account"), wxDefaultPosition,
                                     wxDefaultSize, wxRB_GROUP);
  account_other_ = new wxRadioButton(abox, wxID_ANY, _("Other account"));
  account->Add(account_local_, 0, wxALL, 4);
  account->Add(account_other_, 0, wxALL, 4);
  auto* creds = make_grid();
  row(abox, creds, _("User name:"), &service_user_, 0, RemoteServiceField::kServiceUser);
  row(abox, creds, _("Password:"), &service_password_, wxTE_PASSWORD,
      RemoteServiceField::kServicePassword);
  account->Add(creds, 0, wxEXPAND | wxLEFT, 24);
  left->Add(account, 0, wxEXPAND);
  columns->Add(left, 1, wxEXPAND | wxALL, 8);
  columns->Add(proxy, 1, wxEXPAND | wxTOP | wxRIGHT | wxBOTTOM, 8);
  top->Add(columns, 0, wxEXPAND);

  // Language, and where the passwords are kept.
  auto* language_row = new wxBoxSizer(wxHORIZONTAL);
  language_row->Add(new wxStaticText(this, wxID_ANY, _("Language:")), 0,
                    wxALIGN_CENTER_VERTICAL | wxRIGHT, 8);
  language_ = new wxChoice(this, wxID_ANY);
  language_->Append(_("System default"));
  language_->Append("English");
  language_->Append("Italiano");
  language_row->Add(language_, 0);
  auto* language_problem = new wxStaticText(this, wxID_ANY, wxString());
  problems_[RemoteServiceField::kLanguage] = language_problem;
  language_row->Add(language_problem, 0, wxALIGN_CENTER_VERTICAL | wxLEFT, 8);
  top->Add(language_row, 0, wxLEFT | wxRIGHT | wxBOTTOM, 12);
  wxString protection =
      context_.store && context_.store->kind() == SecretStoreKind::kKeyring
          ? _("Passwords are kept in your desktop keyring, protected by your login.")
          : _("Passwords are encrypted (AES-256-GCM) in the settings folder; the key is "
              "stored beside them, readable only by your user account, so anyone who can "
              "read that folder can read them.");
  if (!context_.store_fallback_reason.empty()) {
    protection += "\n" + wxString::Format(_("No keyring is available: %s"),
                                          U(context_.store_fallback_reason));
  }
  auto* protection_text = new wxStaticText(this, wxID_ANY, protection);
  protection_text->Wrap(900);
  top->Add(protection_text, 0, wxLEFT | wxRIGHT | wxBOTTOM, 12);

  // Connect, Restart, Save, and the feedback area under them.
  auto* buttons = new wxBoxSizer(wxHORIZONTAL);
  auto* connect = new wxButton(this, wxID_ANY, _("Connect"));
  auto* restart = new wxButton(this, wxID_ANY, _("Restart"));
  auto* save = new wxButton(this, wxID_SAVE, _("Save"));
  auto* close = new wxButton(this, wxID_CANCEL, _("Close"));
  buttons->Add(connect, 0, wxRIGHT, 8);
  buttons->Add(restart, 0, wxRIGHT, 8);
  buttons->Add(save, 0, wxRIGHT, 8);
  buttons->AddStretchSpacer();
  buttons->Add(close, 0);
  top->Add(buttons, 0, wxEXPAND | wxLEFT | wxRIGHT, 8);
  status_ = new wxStaticText(this, wxID_ANY, wxString());
  top->Add(status_, 0, wxEXPAND | wxALL, 8);
  feedback_ = new wxTextCtrl(this, wxID_ANY, wxString(), wxDefaultPosition, wxSize(-1, 90),
                             wxTE_MULTILINE | wxTE_READONLY);
  top->Add(feedback_, 1, wxEXPAND | wxLEFT | wxRIGHT | wxBOTTOM, 8);
  SetSizerAndFit(top);

  serial_->SetValue(context_.licence.present ? U(context_.licence.serial) : _("no licence"));
  if (context_.settings)
    Load(context_.settings->remote_service);

  // Validation where it is typed.
  for (wxTextCtrl* text :
       {organisation_id_, verification_code_, proxy_host_, proxy_port_, proxy_user_,
        proxy_password_, proxy_domain_, service_user_, service_password_}) {
    text->Bind(wxEVT_TEXT, [this](wxCommandEvent&) { Revalidate(); });
  }
  for (wxCheckBox* box : {enable_, allow_, proxy_auth_})
    box->Bind(wxEVT_CHECKBOX, [this](wxCommandEvent&) { Revalidate(); });
  // The two proxy options exclude each other, as in the product.
  proxy_auto_->Bind(wxEVT_CHECKBOX, [this](wxCommandEvent&) {
    if (proxy_auto_->GetValue())
      proxy_manual_->SetValue(false);
    Revalidate();
  });
  proxy_manual_->Bind(wxEVT_CHECKBOX, [this](wxCommandEvent&) {
    if (proxy_manual_->GetValue())
      proxy_auto_->SetValue(false);
    Revalidate();
  });
  for (wxRadioButton* radio : {account_local_, account_other_})
    radio->Bind(wxEVT_RADIOBUTTON, [this](wxCommandEvent&) { Revalidate(); });
  language_->Bind(wxEVT_CHOICE, [this](wxCommandEvent&) { Revalidate(); });
  connect->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { OnConnect(); });
  restart->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { OnRestart(); });
  save->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { OnSave(); });
  Bind(wxEVT_TIMER, [this](wxTimerEvent&) {
    if (context_.service_status)
      status_->SetLabel(wxString::Format(_("Status: %s"), context_.service_status()));
  });
  if (context_.service_status)
    status_->SetLabel(wxString::Format(_("Status: %s"), context_.service_status()));
  status_timer_.Start(500);
  Revalidate();
  CentreOnParent();
}

void RemoteServiceDialog::Load(const RemoteServiceSettings& s) {
  enable_->SetValue(s.enabled);
  allow_->SetValue(s.allow_remote_assistance);
  organisation_id_->ChangeValue(U(s.organisation_id));
  verification_code_->ChangeValue(U(s.verification_code));
  proxy_auto_->SetValue(s.proxy_mode == ProxyMode::kAutomatic);
  proxy_manual_->SetValue(s.proxy_mode == ProxyMode::kManual);
  proxy_host_->ChangeValue(U(s.proxy_host));
  proxy_port_->ChangeValue(wxString::Format("%d", s.proxy_port));
  proxy_auth_->SetValue(s.proxy_auth);
  proxy_user_->ChangeValue(U(s.proxy_user));
  proxy_domain_->ChangeValue(U(s.proxy_domain));
  account_local_->SetValue(s.service_account == ServiceAccount::kLocalSystem);
  account_other_->SetValue(s.service_account == ServiceAccount::kOtherAccount);
  service_user_->ChangeValue(U(s.service_user));
  // The passwords come from the secret store, never from the settings file.
  RemoteServiceSettings secrets;
  if (context_.store) {
    if (Status st = LoadRemoteServiceSecrets(*context_.store, &secrets); !st.ok()) {
      AddFeedback(wxString::Format(_("The saved passwords could not be read: %s"),
                                   U(st.error().ToString())));
    }
  }
  proxy_password_->ChangeValue(U(secrets.proxy_password));
  service_password_->ChangeValue(U(secrets.service_password));
  language_->SetSelection(s.language == "en" ? 1 : s.language == "it" ? 2 : 0);
}

RemoteServiceSettings RemoteServiceDialog::ReadForm(bool* port_text_ok) const {
  // Start from the saved values: fields the dialog does not show (the relay) are kept.
  RemoteServiceSettings s =
      context_.settings ? context_.settings->remote_service : RemoteServiceSettings{};
  s.enabled = enable_->GetValue();
  s.allow_remote_assistance = allow_->GetValue();
  s.organisation_id = S(organisation_id_->GetValue());
  s.verification_code = S(verification_code_->GetValue());
  s.proxy_mode = proxy_manual_->GetValue() ? ProxyMode::kManual
                 : proxy_auto_->GetValue() ? ProxyMode::kAutomatic
                                           : ProxyMode::kNone;
  s.proxy_host = S(proxy_host_->GetValue());
  const auto port = ParsePortText(S(proxy_port_->GetValue()));
  *port_text_ok = port.has_value();
  s.proxy_port = port.value_or(0);
  s.proxy_auth = proxy_auth_->GetValue();
  s.proxy_user = S(proxy_user_->GetValue());
  s.proxy_password = S(proxy_password_->GetValue());
  s.proxy_domain = S(proxy_domain_->GetValue());
  s.service_account =
      account_other_->GetValue() ? ServiceAccount::kOtherAccount : ServiceAccount::kLocalSystem;
  s.service_user = S(service_user_->GetValue());
  s.service_password = S(service_password_->GetValue());
  const int language = language_->GetSelection();
  s.language = language == 1 ? "en" : language == 2 ? "it" : "";
  return s;
}

void RemoteServiceDialog::UpdateEnabled() {
  const bool manual = proxy_manual_->GetValue();
  proxy_host_->Enable(manual);
  proxy_port_->Enable(manual);
  proxy_auth_->Enable(manual);
  const bool auth = manual && proxy_auth_->GetValue();
  proxy_user_->Enable(auth);
  proxy_password_->Enable(auth);
  proxy_domain_->Enable(auth);
  const bool other = account_other_->GetValue();
  service_user_->Enable(other);
  service_password_->Enable(other);
}

void RemoteServiceDialog::Revalidate() {
  UpdateEnabled();
  bool port_ok = true;
  RemoteServiceSettings s = ReadForm(&port_ok);
  for (auto& [field, label] : problems_)
    label->SetLabel(wxString());
  for (const FieldIssue& issue : ValidateRemoteService(s)) {
    // Relay fields live in the settings file only; their problems show on Save.
    if (auto it = problems_.find(issue.field); it != problems_.end())
      it->second->SetLabel(ProblemLabel(issue.problem));
  }
  Layout();
}

bool RemoteServiceDialog::SaveForm() {
  bool port_ok = true;
  RemoteServiceSettings s = ReadForm(&port_ok);
  Revalidate();
  const auto issues = ValidateRemoteService(s);
  if (!issues.empty()) {
    AddFeedback(wxString::Format(_("Not saved: %s %s"), U(std::string(FieldKey(issues[0].field))),
                                 ProblemLabel(issues[0].problem)));
    return false;
  }
  if (!context_.settings || !context_.store)
    return false;
  // Secrets first: if the keyring refuses, the file still describes the old state.
  if (Status st = SaveRemoteServiceSecrets(*context_.store, s); !st.ok()) {
    AddFeedback(wxString::Format(_("Not saved: the passwords could not be stored: %s"),
                                 U(st.error().ToString())));
    return false;
  }
  Settings updated = *context_.settings;
  const bool language_changed = updated.remote_service.language != s.language;
  updated.remote_service = s;
  updated.remote_service.proxy_password.clear();
  updated.remote_service.service_password.clear();
  if (Status st = SaveSettings(context_.paths.settings_file, updated); !st.ok()) {
    AddFeedback(wxString::Format(_("Not saved: %s"), U(st.error().ToString())));
    return false;
  }
  *context_.settings = updated;
  AddFeedback(wxString::Format(_("Saved to %s."), U(context_.paths.settings_file)));
  if (language_changed)
    AddFeedback(_("The new language is used from the next start."));
  return true;
}

void RemoteServiceDialog::OnSave() {
  SaveForm();
}

void RemoteServiceDialog::OnRestart() {
  if (!SaveForm())
    return;
  if (context_.restart_service) {
    context_.restart_service();
    AddFeedback(_("The service was restarted with the saved settings."));
  }
}

void RemoteServiceDialog::OnConnect() {
  bool port_ok = true;
  RemoteServiceSettings s = ReadForm(&port_ok);
  AddFeedback(_("Connecting..."));
  wxWeakRef<RemoteServiceDialog> self(this);
  const std::string target = context_.connect_target;
  std::thread([self, s, target] {
    RouteCheck check = CheckRemoteServiceRoute(s, target, kConnectTimeoutMs);
    wxTheApp->CallAfter([self, check] {
      if (!self)
        return;
      wxString line = U(check.text);
      if (check.error.code != ErrorCode::kOk)
        line = wxString::Format(_("Failed (E%d): %s"), static_cast<int>(check.error.code), line);
      self->AddFeedback(line);
    });
  }).detach();
}

void RemoteServiceDialog::AddFeedback(const wxString& line) {
  feedback_->AppendText(line + "\n");
}

bool RemoteServiceDialog::SetField(const std::string& name, const std::string& value) {
  const std::map<std::string, wxTextCtrl*> texts = {{"organisation_id", organisation_id_},
                                                    {"verification_code", verification_code_},
                                                    {"proxy_host", proxy_host_},
                                                    {"proxy_port", proxy_port_},
                                                    {"proxy_user", proxy_user_},
                                                    {"proxy_password", proxy_password_},
                                                    {"proxy_domain", proxy_domain_},
                                                    {"service_user", service_user_},
                                                    {"service_password", service_password_}};
  const std::map<std::string, wxCheckBox*> boxes = {{"enable", enable_},
                                                    {"allow", allow_},
                                                    {"proxy_auto", proxy_auto_},
                                                    {"proxy_manual", proxy_manual_},
                                                    {"proxy_auth", proxy_auth_}};
  if (auto it = texts.find(name); it != texts.end()) {
    it->second->SetValue(U(value));  // Sends wxEVT_TEXT like typing.
    return true;
  }
  if (auto it = boxes.find(name); it != boxes.end()) {
    it->second->SetValue(value == "1" || value == "true");
    wxCommandEvent event(wxEVT_CHECKBOX, it->second->GetId());
    event.SetEventObject(it->second);
    event.SetInt(it->second->GetValue() ? 1 : 0);
    it->second->GetEventHandler()->ProcessEvent(event);
    return true;
  }
  if (name == "account_other" || name == "account_local") {
    wxRadioButton* radio = name == "account_other" ? account_other_ : account_local_;
    radio->SetValue(true);
    wxCommandEvent event(wxEVT_RADIOBUTTON, radio->GetId());
    event.SetEventObject(radio);
    radio->GetEventHandler()->ProcessEvent(event);
    return true;
  }
  if (name == "language") {
    language_->SetSelection(value == "en" ? 1 : value == "it" ? 2 : 0);
    wxCommandEvent event(wxEVT_CHOICE, language_->GetId());
    event.SetEventObject(language_);
    language_->GetEventHandler()->ProcessEvent(event);
    return true;
  }
  return false;
}

std::string RemoteServiceDialog::GetField(const std::string& name) const {
  bool port_ok = true;
  const RemoteServiceSettings s = ReadForm(&port_ok);
  const std::map<std::string, std::string> values = {
      {"enable", s.enabled ? "1" : "0"},
      {"allow", s.allow_remote_assistance ? "1" : "0"},
      {"organisation_id", s.organisation_id},
      {"verification_code", s.verification_code},
      {"serial", S(serial_->GetValue())},
      {"proxy_auto", proxy_auto_->GetValue() ? "1" : "0"},
      {"proxy_manual", proxy_manual_->GetValue() ? "1" : "0"},
      {"proxy_host", s.proxy_host},
      {"proxy_port", S(proxy_port_->GetValue())},
      {"proxy_auth", s.proxy_auth ? "1" : "0"},
      {"proxy_user", s.proxy_user},
      {"proxy_password", s.proxy_password},
      {"proxy_domain", s.proxy_domain},
      {"account_other", account_other_->GetValue() ? "1" : "0"},
      {"service_user", s.service_user},
      {"service_password", s.service_password},
      {"language", s.language.empty() ? "system" : s.language}};
  auto it = values.find(name);
  return it == values.end() ? "?" : it->second;
}

std::string RemoteServiceDialog::FieldProblemText(const std::string& name) const {
  for (const auto& [field, label] : problems_) {
    const std::string_view key = FieldKey(field);
    if (key.size() >= name.size() && key.substr(key.size() - name.size()) == name)
      return S(label->GetLabel());
  }
  return "?";
}

bool RemoteServiceDialog::Press(const std::string& button) {
  if (button == "save")
    OnSave();
  else if (button == "restart")
    OnRestart();
  else if (button == "connect")
    OnConnect();
  else
    return false;
  return true;
}

std::string RemoteServiceDialog::FeedbackText() const {
  return S(feedback_->GetValue());
}

}  // namespace lifeline
