#include "app/ui_wx/gui_app.h"

#include <wx/clipbrd.h>
#include <wx/filename.h>
#include <wx/image.h>
#include <wx/intl.h>
#include <wx/stdpaths.h>
#include <wx/translation.h>
#include <wx/weakref.h>
#include <wx/wx.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "app/core/desktop_model.h"
#include "app/core/host_security_state.h"
#include "app/core/host_service.h"
#include "app/core/settings.h"
#include "app/core/viewer_launcher.h"
#include "app/keyring/keyring_secret_store.h"
#include "app/ui_wx/session_ui.h"
#include "app/ui_wx/settings_dialog.h"
#include "app/ui_wx/wx_text.h"
#include "base/log.h"
#include "base/version.h"
#include "capture/screen_capturer.h"
#include "net/tls/device_identity.h"

namespace lifeline {
namespace {

// The host service's state in words, translated (HostServiceStatus::text is English).
wxString StatusWords(const HostServiceStatus& status) {
  switch (status.state) {
    case HostServiceState::kStarting:
      return _("Starting...");
    case HostServiceState::kListening:
      return wxString::Format(_("Ready: waiting for a partner on %s"), U(status.address));
    case HostServiceState::kConnectingToRelay:
      return wxString::Format(_("Connecting to the relay %s..."), U(status.address));
    case HostServiceState::kRegistered:
      return wxString::Format(_("Ready: connected to the relay %s"), U(status.address));
    case HostServiceState::kRelayUnreachable:
      return wxString::Format(_("Cannot reach the relay %s (E%d); retrying in %d s"),
                              U(status.address), static_cast<int>(status.error.code),
                              status.retry_in_ms / 1000);
    case HostServiceState::kSessionStarted:
      return wxString::Format(_("A partner is connecting from %s"), U(status.address));
    case HostServiceState::kSessionEnded:
      if (status.error.code == ErrorCode::kOk)
        return _("Session ended. Ready for the next partner.");
      return wxString::Format(_("Session ended: %s"), U(status.error.ToString()));
    case HostServiceState::kStopped:
      if (status.error.code == ErrorCode::kOk)
        return _("Stopped");
      return wxString::Format(_("Not ready: %s"), U(status.error.ToString()));
  }
  return wxString();
}

// Asks for the partner's one-time password and, if the partner uses it, the 2FA code.
class PasswordDialog : public wxDialog {
 public:
  explicit PasswordDialog(wxWindow* parent, const wxString& partner)
      : wxDialog(parent, wxID_ANY, _("Connect")) {
    auto* sizer = new wxBoxSizer(wxVERTICAL);
    sizer->Add(new wxStaticText(this, wxID_ANY, wxString::Format(_("Password for %s:"), partner)),
               0, wxLEFT | wxRIGHT | wxTOP, 12);
    password_ = new wxTextCtrl(this, wxID_ANY, wxString(), wxDefaultPosition, wxSize(260, -1),
                               wxTE_PASSWORD);
    sizer->Add(password_, 0, wxEXPAND | wxALL, 12);
    sizer->Add(new wxStaticText(this, wxID_ANY,
                                _("2FA code (only if the partner uses two-factor "
                                  "authentication):")),
               0, wxLEFT | wxRIGHT, 12);
    code_ = new wxTextCtrl(this, wxID_ANY, wxString(), wxDefaultPosition, wxSize(120, -1));
    sizer->Add(code_, 0, wxALL, 12);
    auto* buttons = new wxStdDialogButtonSizer;
    buttons->AddButton(new wxButton(this, wxID_OK, _("OK")));
    buttons->AddButton(new wxButton(this, wxID_CANCEL, _("Cancel")));
    buttons->Realize();
    sizer->Add(buttons, 0, wxEXPAND | wxALL, 12);
    SetSizerAndFit(sizer);
    password_->SetFocus();
  }
  std::string password() const { return S(password_->GetValue()); }
  std::string code() const { return S(code_->GetValue()); }

 private:
  wxTextCtrl* password_;
  wxTextCtrl* code_;
};

wxString DateText(const std::optional<std::chrono::sys_days>& day) {
  if (!day)
    return _("none");
  const std::chrono::year_month_day ymd(*day);
  return wxString::Format("%04d-%02u-%02u", static_cast<int>(ymd.year()),
                          static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

wxString NoticeText(const LicenceNotice& notice) {
  switch (notice.kind) {
    case LicenceNoticeKind::kLicenceExpiresSoon:
      return wxString::Format(_("The licence expires in %d days."), notice.days_left);
    case LicenceNoticeKind::kMaintenanceExpiresSoon:
      return wxString::Format(_("The maintenance period ends in %d days."), notice.days_left);
    case LicenceNoticeKind::kLicenceExpired:
      return _("The licence has expired.");
    case LicenceNoticeKind::kMaintenanceExpired:
      return _("The maintenance period has ended.");
  }
  return wxString();
}

class AboutDialog : public wxDialog {
 public:
  AboutDialog(wxWindow* parent, const LicenceInfo& licence, const AppPaths& paths)
      : wxDialog(parent, wxID_ANY, _("About Lifeline")) {
    auto* sizer = new wxBoxSizer(wxVERTICAL);
    auto* name = new wxStaticText(this, wxID_ANY, wxString::Format("Lifeline %s", kVersionString));
    name->SetFont(name->GetFont().Bold().Larger());
    sizer->Add(name, 0, wxALL, 12);
    sizer->Add(new wxStaticText(this, wxID_ANY, _("Open-source remote support.")), 0,
               wxLEFT | wxRIGHT, 12);
    wxString text;
    if (!licence.present) {
      text << _("Licence: no licence");
    } else {
      text << wxString::Format(_("Serial number: %s"), U(licence.serial)) << "\n"
           << wxString::Format(_("Licence expires: %s"), DateText(licence.licence_expiry)) << "\n"
           << wxString::Format(_("Maintenance until: %s"), DateText(licence.maintenance_expiry));
    }
    text << "\n"
         << wxString::Format(_("Settings: %s%s"), U(paths.settings_file),
                             paths.portable ? wxString(_(" (portable mode)")) : wxString());
    sizer->Add(new wxStaticText(this, wxID_ANY, text), 0, wxALL, 12);
    auto* ok = new wxButton(this, wxID_OK, _("OK"));
    sizer->Add(ok, 0, wxALIGN_RIGHT | wxALL, 12);
    SetSizerAndFit(sizer);
    ok->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { Destroy(); });
    Bind(wxEVT_CLOSE_WINDOW, [this](wxCloseEvent&) { Destroy(); });
    CentreOnParent();
  }
};

class DesktopApp;

class MainFrame : public wxFrame {
 public:
  MainFrame(DesktopApp* app, const AppPaths& paths);

  void ShowCredentials(const std::string& id, const std::string& password);
  void ShowStatus(const HostServiceStatus& status);
  void SetSessionActive(const wxString& who);

  void OnCopyPassword();
  void OnNewPassword();
  void OnConnect();
  void OpenSettings();
  void OpenAbout();

  wxString id_text() const { return id_->GetLabel(); }
  wxString password_text() const { return password_->GetLabel(); }
  wxString status_text() const { return status_->GetLabel(); }
  RemoteServiceDialog* settings_dialog() const { return settings_dialog_.get(); }
  wxDialog* about_dialog() const { return about_dialog_.get(); }

 private:
  void PollViewers();

  DesktopApp* app_;
  AppPaths paths_;
  wxStaticText* id_ = nullptr;
  wxStaticText* password_ = nullptr;
  wxStaticText* address_ = nullptr;
  wxStaticText* status_ = nullptr;
  wxTextCtrl* partner_ = nullptr;
  wxStaticText* connect_status_ = nullptr;
  wxWeakRef<RemoteServiceDialog> settings_dialog_;
  wxWeakRef<wxDialog> about_dialog_;
  std::vector<ViewerProcess> viewers_;
  wxTimer viewer_timer_;
};

class TestHook;

class DesktopApp : public wxApp {
 public:
  explicit DesktopApp(const AppPaths& paths) : paths_(paths) {}

  bool OnInit() override;
  int OnExit() override;

  HostSecurityState* security() { return security_.get(); }
  HostService* service() { return service_.get(); }
  WxHostSessionUi* session_ui() { return session_ui_.get(); }
  MainFrame* frame() { return frame_; }
  Settings& settings() { return settings_; }
  const AppPaths& paths() const { return paths_; }
  SecretStore* secret_store(std::string* fallback_reason);
  wxString service_status() const { return status_words_; }
  void RestartService();

 private:
  void SetUpLanguage();
  HostOptions SessionOptions() const;
  void StartService();

  AppPaths paths_;
  Settings settings_;
  std::unique_ptr<wxLocale> locale_;
  std::unique_ptr<HostSecurityState> security_;
  std::unique_ptr<WxHostSessionUi> session_ui_;
  std::unique_ptr<HostService> service_;
  std::unique_ptr<SecretStore> store_;
  std::string store_fallback_reason_;
  MainFrame* frame_ = nullptr;
  wxString status_words_;
  std::unique_ptr<TestHook> test_hook_;
};

MainFrame::MainFrame(DesktopApp* app, const AppPaths& paths)
    : wxFrame(nullptr, wxID_ANY, "Lifeline", wxDefaultPosition, wxDefaultSize),
      app_(app),
      paths_(paths),
      viewer_timer_(this) {
  auto* menu_bar = new wxMenuBar;
  auto* file = new wxMenu;
  const int settings_id = wxWindow::NewControlId();
  file->Append(settings_id, _("Remote Service settings...") + "\tCtrl+,");
  file->AppendSeparator();
  file->Append(wxID_EXIT, _("Quit"));
  auto* help = new wxMenu;
  help->Append(wxID_ABOUT, _("About Lifeline"));
  menu_bar->Append(file, _("File"));
  menu_bar->Append(help, _("Help"));
  SetMenuBar(menu_bar);

  auto* panel = new wxPanel(this);
  auto* columns = new wxBoxSizer(wxHORIZONTAL);

  auto* allow = new wxStaticBoxSizer(wxVERTICAL, panel, _("Allow remote control"));
  wxWindow* abox = allow->GetStaticBox();
  auto* intro = new wxStaticText(abox, wxID_ANY,
                                 _("Give your partner this ID and password to let them see "
                                   "and control this computer."));
  intro->Wrap(330);
  allow->Add(intro, 0, wxALL, 8);
  auto* grid = new wxFlexGridSizer(2, 8, 12);
  grid->Add(new wxStaticText(abox, wxID_ANY, _("Your ID")), 0, wxALIGN_CENTER_VERTICAL);
  id_ = new wxStaticText(abox, wxID_ANY, "--- --- ---");
  id_->SetFont(id_->GetFont().Bold().Scaled(1.6f));
  grid->Add(id_, 0);
  grid->Add(new wxStaticText(abox, wxID_ANY, _("Password")), 0, wxALIGN_CENTER_VERTICAL);
  password_ = new wxStaticText(abox, wxID_ANY, "------");
  password_->SetFont(password_->GetFont().Bold().Scaled(1.6f));
  grid->Add(password_, 0);
  grid->Add(new wxStaticText(abox, wxID_ANY, _("Address")), 0, wxALIGN_CENTER_VERTICAL);
  address_ = new wxStaticText(abox, wxID_ANY, wxString());
  grid->Add(address_, 0, wxALIGN_CENTER_VERTICAL);
  allow->Add(grid, 0, wxALL, 8);
  auto* password_buttons = new wxBoxSizer(wxHORIZONTAL);
  auto* copy = new wxButton(abox, wxID_ANY, _("Copy password"));
  auto* renew = new wxButton(abox, wxID_ANY, _("New password"));
  password_buttons->Add(copy, 0, wxRIGHT, 8);
  password_buttons->Add(renew, 0);
  allow->Add(password_buttons, 0, wxALL, 8);
  status_ = new wxStaticText(abox, wxID_ANY, _("Starting..."));
  status_->SetMinSize(wxSize(330, 2 * status_->GetCharHeight() + 4));
  allow->Add(status_, 0, wxEXPAND | wxALL, 8);
  columns->Add(allow, 1, wxEXPAND | wxALL, 8);

  auto* control = new wxStaticBoxSizer(wxVERTICAL, panel, _("Control a remote computer"));
  wxWindow* cbox = control->GetStaticBox();
  control->Add(new wxStaticText(cbox, wxID_ANY, _("Partner ID")), 0, wxLEFT | wxTOP, 8);
  partner_ = new wxTextCtrl(cbox, wxID_ANY, wxString(), wxDefaultPosition, wxSize(240, -1),
                            wxTE_PROCESS_ENTER);
  partner_->SetHint(_("ID, or address as HOST:PORT"));
  control->Add(partner_, 0, wxEXPAND | wxALL, 8);
  auto* connect = new wxButton(cbox, wxID_ANY, _("Connect"));
  control->Add(connect, 0, wxALL, 8);
  auto* control_intro =
      new wxStaticText(cbox, wxID_ANY, _("Type your partner's ID (or address) and press Connect."));
  control_intro->Wrap(300);
  control->Insert(0, control_intro, 0, wxALL, 8);
  connect_status_ = new wxStaticText(cbox, wxID_ANY, wxString());
  connect_status_->SetMinSize(wxSize(300, 3 * connect_status_->GetCharHeight() + 4));
  control->Add(connect_status_, 0, wxEXPAND | wxALL, 8);
  columns->Add(control, 1, wxEXPAND | wxALL, 8);

  CreateStatusBar();
  SetStatusText(_("No session"));
  panel->SetSizer(columns);
  auto* frame_sizer = new wxBoxSizer(wxVERTICAL);
  frame_sizer->Add(panel, 1, wxEXPAND);
  SetSizerAndFit(frame_sizer);

  copy->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { OnCopyPassword(); });
  renew->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { OnNewPassword(); });
  connect->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { OnConnect(); });
  partner_->Bind(wxEVT_TEXT_ENTER, [this](wxCommandEvent&) { OnConnect(); });
  Bind(
      wxEVT_MENU, [this](wxCommandEvent&) { OpenSettings(); }, settings_id);
  Bind(
      wxEVT_MENU, [this](wxCommandEvent&) { OpenAbout(); }, wxID_ABOUT);
  Bind(
      wxEVT_MENU, [this](wxCommandEvent&) { Close(); }, wxID_EXIT);
  Bind(wxEVT_TIMER, [this](wxTimerEvent&) { PollViewers(); });
}

void MainFrame::ShowCredentials(const std::string& id, const std::string& password) {
  id_->SetLabel(U(FormatDeviceId(id)));
  password_->SetLabel(U(password));
  Layout();
}

void MainFrame::ShowStatus(const HostServiceStatus& status) {
  status_->SetLabel(StatusWords(status));
  if (status.state == HostServiceState::kListening)
    address_->SetLabel(U(status.address));
  if (status.state == HostServiceState::kRegistered) {
    // Through the relay the partner uses the relay's ID, not an address.
    id_->SetLabel(U(FormatDeviceId(status.id)));
    address_->SetLabel(wxString::Format(_("via the relay %s"), U(status.address)));
  }
  status_->Wrap(330);
  Layout();
}

void MainFrame::SetSessionActive(const wxString& who) {
  SetStatusText(who.empty() ? _("No session") : wxString::Format(_("Session active: %s"), who));
}

void MainFrame::OnCopyPassword() {
  if (wxTheClipboard->Open()) {
    wxTheClipboard->SetData(new wxTextDataObject(password_->GetLabel()));
    wxTheClipboard->Close();
    SetStatusText(_("Password copied"));
  }
}

void MainFrame::OnNewPassword() {
  HostSecurityState* security = app_->security();
  if (!security)
    return;
  if (Status st = security->credentials->Rotate(); !st.ok()) {
    SetStatusText(U(st.error().ToString()));
    return;
  }
  password_->SetLabel(U(security->credentials->display_password()));
  SetStatusText(_("A new password was created; the old one no longer works."));
}

void MainFrame::OnConnect() {
  auto partner = ParsePartner(S(partner_->GetValue()));
  if (!partner.ok()) {
    connect_status_->SetLabel(
        wxString::Format(_("Cannot connect: %s"), U(partner.error().message)));
    return;
  }
  const RemoteServiceSettings& remote = app_->settings().remote_service;
  if (partner->kind == Partner::Kind::kId && remote.relay_address.empty()) {
    connect_status_->SetLabel(
        _("Connecting by ID needs a relay, which is not configured. Type the partner's "
          "address as HOST:PORT."));
    return;
  }
  const std::string target = partner->kind == Partner::Kind::kId ? partner->id : partner->address;
  PasswordDialog dialog(this,
                        U(partner->kind == Partner::Kind::kId ? FormatDeviceId(target) : target));
  if (dialog.ShowModal() != wxID_OK || dialog.password().empty())
    return;
  ViewerLaunch launch;
  launch.executable = ExecutableDir() + "/lifeline";
  launch.address = target;
  if (partner->kind == Partner::Kind::kId) {
    launch.extra_args = {"--relay", remote.relay_address, "--relay-pin", remote.relay_pin};
    if (!remote.relay_fallback.empty())
      launch.extra_args.insert(launch.extra_args.end(),
                               {"--relay-fallback", remote.relay_fallback});
  }
  launch.password = dialog.password();
  launch.two_factor_code = dialog.code();
  auto viewer = ViewerProcess::Start(launch);
  if (!viewer.ok()) {
    connect_status_->SetLabel(U(viewer.error().ToString()));
    return;
  }
  viewers_.push_back(std::move(viewer).value());
  connect_status_->SetLabel(wxString::Format(_("Viewer started for %s"), U(target)));
  connect_status_->Wrap(300);
  viewer_timer_.Start(500);
}

void MainFrame::PollViewers() {
  for (auto it = viewers_.begin(); it != viewers_.end();) {
    if (auto status = it->Poll()) {
      connect_status_->SetLabel(*status == 0
                                    ? _("The viewer was closed.")
                                    : wxString::Format(_("The viewer ended with an error (exit "
                                                         "status %d)."),
                                                       *status));
      it = viewers_.erase(it);
    } else {
      ++it;
    }
  }
  if (viewers_.empty())
    viewer_timer_.Stop();
}

void MainFrame::OpenSettings() {
  if (settings_dialog_) {
    settings_dialog_->Raise();
    return;
  }
  RemoteServiceDialog::Context context;
  context.paths = paths_;
  context.settings = &app_->settings();
  context.store = app_->secret_store(&context.store_fallback_reason);
  context.licence = ReadLicence(paths_);
  context.service_status = [app = app_] { return app->service_status(); };
  context.connect_target = app_->settings().remote_service.relay_address;
  context.restart_service = [app = app_] { app->RestartService(); };
  auto* dialog = new RemoteServiceDialog(this, std::move(context));
  dialog->Bind(wxEVT_CLOSE_WINDOW, [dialog](wxCloseEvent&) { dialog->Destroy(); });
  dialog->Bind(
      wxEVT_BUTTON, [dialog](wxCommandEvent&) { dialog->Destroy(); }, wxID_CANCEL);
  settings_dialog_ = dialog;
  dialog->Show();
}

void MainFrame::OpenAbout() {
  if (about_dialog_) {
    about_dialog_->Raise();
    return;
  }
  auto* dialog = new AboutDialog(this, ReadLicence(paths_), paths_);
  about_dialog_ = dialog;
  dialog->Show();
}

// The hidden test hook: LIFELINE_GUI_TEST_SCRIPT names a file of commands, run one per
// timer tick through the same handlers as clicks; results go to LIFELINE_GUI_TEST_OUTPUT
// as "key=value" lines. Used by tests/gui and the screenshot script only.
class TestHook : public wxEvtHandler {
 public:
  TestHook(DesktopApp* app, const std::string& script, const std::string& output)
      : app_(app), out_(output, std::ios::app), timer_(this) {
    std::ifstream in(script);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] != '#')
        commands_.push_back(line);
    }
    Bind(wxEVT_TIMER, [this](wxTimerEvent&) { Step(); });
    timer_.Start(50);
  }

 private:
  void Emit(const std::string& key, const std::string& value) {
    std::string flat = value;
    for (char& c : flat) {
      if (c == '\n')
        c = '|';
    }
    out_ << key << "=" << flat << "\n";
    out_.flush();
  }

  // Runs commands until one has to wait for something.
  void Step() {
    while (next_ < commands_.size()) {
      std::istringstream line(commands_[next_]);
      std::string command;
      line >> command;
      std::string rest;
      std::getline(line >> std::ws, rest);
      const bool done = Run(command, rest);
      if (!done)
        return;  // Try again on the next tick.
      waiting_since_.reset();
      ++next_;
    }
    timer_.Stop();
  }

  bool TimedOut(int timeout_ms) {
    const auto now = std::chrono::steady_clock::now();
    if (!waiting_since_)
      waiting_since_ = now;
    return now - *waiting_since_ > std::chrono::milliseconds(timeout_ms);
  }

  static int Number(const std::string& text, int fallback) {
    try {
      return std::stoi(text);
    } catch (...) {
      return fallback;
    }
  }

  // True when the command is finished.
  bool Run(const std::string& command, const std::string& rest) {
    MainFrame* frame = app_->frame();
    RemoteServiceDialog* dialog = frame->settings_dialog();
    if (command == "ready") {
      if (frame->password_text().StartsWith("-") && !TimedOut(10000))
        return false;
      Emit("id", S(frame->id_text()));
      Emit("password", S(frame->password_text()));
      return true;
    }
    if (command == "wait-listening") {
      // Ready for a partner: listening (direct) or registered with the relay.
      const HostServiceState state =
          app_->service() ? app_->service()->status().state : HostServiceState::kStopped;
      if (state != HostServiceState::kListening && state != HostServiceState::kRegistered &&
          !TimedOut(Number(rest, 10000))) {
        return false;
      }
      Emit("status", S(frame->status_text()));
      Emit("service_id", S(frame->id_text()));
      Emit("address", app_->service() ? app_->service()->status().address : "");
      return true;
    }
    if (command == "sleep") {
      return TimedOut(Number(rest, 100));
    }
    if (command == "open-settings") {
      frame->OpenSettings();
      return true;
    }
    if (command == "close-settings") {
      if (dialog)
        dialog->Destroy();
      return true;
    }
    if (command == "set" && dialog) {
      const auto space = rest.find(' ');
      const std::string name = rest.substr(0, space);
      const std::string value = space == std::string::npos ? "" : rest.substr(space + 1);
      Emit("set." + name, dialog->SetField(name, value) ? "ok" : "unknown");
      return true;
    }
    if (command == "get" && dialog) {
      Emit("get." + rest, dialog->GetField(rest));
      return true;
    }
    if (command == "problem" && dialog) {
      Emit("problem." + rest, dialog->FieldProblemText(rest));
      return true;
    }
    if (command == "press" && dialog) {
      Emit("press." + rest, dialog->Press(rest) ? "ok" : "unknown");
      return true;
    }
    if (command == "feedback" && dialog) {
      const std::string text = dialog->FeedbackText();
      if (text.empty() && !TimedOut(5000))
        return false;
      Emit("feedback", text);
      return true;
    }
    if (command == "wait-consent") {
      if (!app_->session_ui()->consent_open() && !TimedOut(Number(rest, 15000)))
        return false;
      Emit("consent_open", app_->session_ui()->consent_open() ? "1" : "0");
      return true;
    }
    if (command == "consent") {
      WxHostSessionUi* ui = app_->session_ui();
      if (!ui->AnswerConsentForTesting(rest == "accept")) {
        if (!TimedOut(15000))
          return false;
        Emit("consent", "no prompt");
        return true;
      }
      Emit("consent", rest);
      return true;
    }
    if (command == "file") {
      if (!app_->session_ui()->AnswerFilePromptForTesting(rest == "accept")) {
        if (!TimedOut(20000))
          return false;
        Emit("file", "no prompt");
        return true;
      }
      Emit("file", rest);
      return true;
    }
    if (command == "wait-overlay") {
      SessionOverlay* overlay = app_->session_ui()->overlay();
      if (!overlay || !overlay->IsShown() || !app_->session_ui()->session_shown()) {
        if (!TimedOut(Number(rest, 15000)))
          return false;
        Emit("overlay", "none");
        return true;
      }
      const wxRect r = overlay->GetScreenRect();
      Emit("overlay", std::to_string(r.x) + "," + std::to_string(r.y) + "," +
                          std::to_string(r.width) + "," + std::to_string(r.height));
      Emit("overlay_expected",
           std::to_string(overlay->Placement().x) + "," + std::to_string(overlay->Placement().y));
      Emit("session_status", S(frame->GetStatusBar()->GetStatusText()));
      return true;
    }
    if (command == "disconnect") {
      if (SessionOverlay* overlay = app_->session_ui()->overlay())
        overlay->PressDisconnect();
      return true;
    }
    if (command == "wait-no-overlay") {
      if (app_->session_ui()->overlay() && !TimedOut(Number(rest, 10000)))
        return false;
      Emit("overlay_gone", app_->session_ui()->overlay() ? "0" : "1");
      return true;
    }
    if (command == "new-password") {
      frame->OnNewPassword();
      Emit("password", S(frame->password_text()));
      return true;
    }
    if (command == "about") {
      frame->OpenAbout();
      return true;
    }
    if (command == "close-about") {
      if (frame->about_dialog())
        frame->about_dialog()->Destroy();
      return true;
    }
    if (command == "receipt-close") {
      for (wxWindow* top : wxTopLevelWindows) {
        auto* window = dynamic_cast<wxTopLevelWindow*>(top);
        if (window && window->GetTitle() == _("Session summary"))
          window->Destroy();
      }
      return true;
    }
    if (command == "wait-file") {
      if (!wxFileExists(U(rest)) && !TimedOut(30000))
        return false;
      return true;
    }
    if (command == "pixel") {
      int x = 0;
      int y = 0;
      std::istringstream xy(rest);
      xy >> x >> y;
      Emit("pixel", PixelAt(x, y));
      return true;
    }
    if (command == "shot") {
      Emit("shot", Screenshot(rest) ? rest : "failed");
      return true;
    }
    if (command == "quit") {
      frame->Close(true);
      return true;
    }
    Emit("error", "cannot run: " + command + " " + rest);
    return true;
  }

  // What the screen shows, through the same X11 capturer the host uses.
  static std::unique_ptr<Frame> CaptureScreen() {
    wxYield();
    auto capturer = CreateScreenCapturer(CaptureOptions{});
    if (!capturer.ok())
      return nullptr;
    std::unique_ptr<Frame> frame;
    if ((*capturer)->CaptureFrame(&frame) != CaptureResult::kSuccess)
      return nullptr;
    return frame;
  }

  static std::string PixelAt(int x, int y) {
    std::unique_ptr<Frame> frame = CaptureScreen();
    if (!frame || x < 0 || y < 0 || x >= frame->width() || y >= frame->height())
      return "none";
    const uint8_t* p = frame->PixelAt(x, y);
    char text[8];
    std::snprintf(text, sizeof(text), "%02x%02x%02x", p[2], p[1], p[0]);
    return text;
  }

  static bool Screenshot(const std::string& path) {
    std::unique_ptr<Frame> frame = CaptureScreen();
    if (!frame)
      return false;
    wxImage image(frame->width(), frame->height());
    unsigned char* rgb = image.GetData();
    for (int y = 0; y < frame->height(); ++y) {
      for (int x = 0; x < frame->width(); ++x) {
        const uint8_t* p = frame->PixelAt(x, y);
        unsigned char* q = rgb + (y * frame->width() + x) * 3;
        q[0] = p[2];
        q[1] = p[1];
        q[2] = p[0];
      }
    }
    return image.SaveFile(U(path), wxBITMAP_TYPE_PNG);
  }

  DesktopApp* app_;
  std::ofstream out_;
  std::vector<std::string> commands_;
  size_t next_ = 0;
  std::optional<std::chrono::steady_clock::time_point> waiting_since_;
  wxTimer timer_;
};

void DesktopApp::SetUpLanguage() {
  // Catalogs: <exe dir>/locale (build tree and portable bundle), then the install prefix.
  wxFileTranslationsLoader::AddCatalogLookupPathPrefix(U(ExecutableDir() + "/locale"));
  wxFileTranslationsLoader::AddCatalogLookupPathPrefix(U(ExecutableDir() + "/../share/locale"));
  const std::string& choice = settings_.remote_service.language;
  {
    wxLogNull quiet;  // A missing C locale (it_IT) is no reason for a message box.
    locale_ = std::make_unique<wxLocale>();
    locale_->Init(choice == "it"   ? wxLANGUAGE_ITALIAN
                  : choice == "en" ? wxLANGUAGE_ENGLISH
                                   : wxLANGUAGE_DEFAULT,
                  wxLOCALE_DONT_LOAD_DEFAULT);
  }
  // Our own translations object, so the language does not depend on the C library having
  // that locale installed.
  auto* translations = new wxTranslations;
  if (choice == "it")
    translations->SetLanguage(wxLANGUAGE_ITALIAN);
  else if (choice == "en")
    translations->SetLanguage(wxLANGUAGE_ENGLISH);
  wxTranslations::Set(translations);
  translations->AddStdCatalog();
  translations->AddCatalog("lifeline");
}

SecretStore* DesktopApp::secret_store(std::string* fallback_reason) {
  if (!store_)
    store_ = OpenPreferredSecretStore(paths_, &store_fallback_reason_);
  *fallback_reason = store_fallback_reason_;
  return store_.get();
}

HostOptions DesktopApp::SessionOptions() const {
  HostOptions session;
  session.capture.source = settings_.host.source;
  session.capture.x11_display = settings_.host.display;
  session.preferred_codec = settings_.host.codec;
  session.bitrate_kbps = settings_.host.bitrate_kbps;
  session.max_fps = settings_.host.max_fps;
  session.max_frames_in_flight = settings_.host.max_frames_in_flight;
  // Files a partner sends (each confirmed in a prompt) go to Downloads/Lifeline, or into
  // the portable folder in portable mode.
  // (wx answers the home folder itself when no XDG download folder is configured.)
  wxString downloads = wxStandardPaths::Get().GetUserDir(wxStandardPaths::Dir_Downloads);
  if (downloads.empty() || wxFileName::DirName(downloads) == wxFileName::DirName(wxGetHomeDir()))
    downloads = wxGetHomeDir() + "/Downloads";
  session.receive_dir =
      paths_.portable ? paths_.config_dir + "/received" : S(downloads) + "/Lifeline";
  return session;
}

void DesktopApp::StartService() {
  HostServiceOptions options;
  options.listen = settings_.host.listen;
  options.session = SessionOptions();
  wxFileName::Mkdir(U(options.session.receive_dir), 0700, wxPATH_MKDIR_FULL);
  const RemoteServiceSettings& remote = settings_.remote_service;
  if (UsesRelay(remote)) {
    // Relay mode: register through the proxy the Remote Service settings describe.
    RemoteServiceSettings with_secrets = remote;
    std::string unused;
    if (SecretStore* store = secret_store(&unused))
      static_cast<void>(LoadRemoteServiceSecrets(*store, &with_secrets));
    options.use_relay = true;
    options.relay.address = remote.relay_address;
    options.relay.fallback_address = remote.relay_fallback;
    options.relay.pin = remote.relay_pin;
    options.relay.proxy = ToProxyConfig(with_secrets);
  }
  service_ = std::make_unique<HostService>(options, security_.get());
  wxWeakRef<MainFrame> frame(frame_);
  service_->set_status_callback([this, frame](const HostServiceStatus& status) {
    // Service thread: hand over to the UI thread, never block here.
    CallAfter([this, frame, status] {
      status_words_ = StatusWords(status);
      if (frame)
        frame->ShowStatus(status);
    });
  });
  if (Status st = service_->Start(); !st.ok())
    status_words_ = U(st.error().ToString());
}

void DesktopApp::RestartService() {
  if (service_)
    service_->Stop();
  service_.reset();
  StartService();
}

bool DesktopApp::OnInit() {
  auto loaded = LoadSettings(paths_.settings_file);
  wxString settings_problem;
  if (loaded.ok()) {
    settings_ = *loaded;
  } else {
    settings_problem = U(loaded.error().ToString());
  }
  SetUpLanguage();
  wxImage::AddHandler(new wxPNGHandler);
  if (Status st = EnsureConfigDir(paths_); !st.ok())
    settings_problem = U(st.error().ToString());

  frame_ = new MainFrame(this, paths_);
  frame_->Show();
  status_words_ = _("Starting...");

  // The host side: ID and one-time password first (they are what the person needs),
  // then the service that waits for a partner.
  auto security = HostSecurityState::Open(paths_, settings_, /*require_consent=*/true);
  if (!security.ok()) {
    status_words_ = wxString::Format(_("Not ready: %s"), U(security.error().ToString()));
    HostServiceStatus status;
    status.state = HostServiceState::kStopped;
    status.error = security.error();
    frame_->ShowStatus(status);
  } else {
    security_ = std::move(security).value();
    wxWeakRef<MainFrame> frame(frame_);
    WxHostSessionUi::Callbacks callbacks;
    callbacks.disconnect = [this] {
      if (service_)
        service_->EndCurrentSession();
    };
    callbacks.pause_control = [this](bool paused) {
      if (service_)
        service_->SetControlPaused(paused);
    };
    callbacks.session_shown = [frame](const PeerInfo& peer) {
      if (frame)
        frame->SetSessionActive(U(FormatDeviceId(peer.device_id) + " (" + peer.address + ")"));
    };
    callbacks.session_ended = [frame](const SessionReceipt& receipt) {
      if (!frame)
        return;
      frame->SetSessionActive(wxString());
      ShowSessionReceipt(frame.get(), receipt);
    };
    callbacks.password_changed = [this, frame](const std::string& password, bool after_failures) {
      if (!frame || !security_)
        return;
      frame->ShowCredentials(security_->credentials->host_id(), password);
      if (after_failures)
        frame->SetStatusText(_("Too many wrong passwords: a new password was created."));
    };
    SessionPermissions permissions;
    const HostOptions defaults = SessionOptions();
    permissions.control = defaults.remote_control.control_mode == ControlMode::kFull;
    permissions.clipboard = defaults.remote_control.clipboard_mode != ClipboardMode::kOff;
    permissions.files = !defaults.receive_dir.empty();
    session_ui_ = std::make_unique<WxHostSessionUi>(std::move(callbacks), permissions);
    security_->security.ui = session_ui_.get();
    frame_->ShowCredentials(security_->credentials->host_id(),
                            security_->credentials->display_password());
    StartService();
  }
  if (!settings_problem.empty()) {
    frame_->SetStatusText(
        wxString::Format(_("Settings not loaded, using defaults: %s"), settings_problem));
  }

  // Licence notices at every start (none while there is no licence).
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  wxString notices;
  for (const LicenceNotice& notice : LicenceNotices(ReadLicence(paths_), today))
    notices << NoticeText(notice) << "\n";

  const char* script = std::getenv("LIFELINE_GUI_TEST_SCRIPT");
  const char* output = std::getenv("LIFELINE_GUI_TEST_OUTPUT");
  if (script && output) {
    test_hook_ = std::make_unique<TestHook>(this, script, output);
  } else if (!notices.empty()) {
    CallAfter([this, notices] {
      wxMessageBox(notices, _("Licence"), wxOK | wxICON_INFORMATION, frame_);
    });
  }
  return true;
}

int DesktopApp::OnExit() {
  test_hook_.reset();
  if (service_)
    service_->Stop();  // Ends a session in progress (Goodbye) and joins the thread.
  service_.reset();
  return wxApp::OnExit();
}

}  // namespace

int RunDesktopApp(int argc, char** argv, const AppPaths& paths) {
  wxApp::SetInstance(new DesktopApp(paths));
  return wxEntry(argc, argv);
}

}  // namespace lifeline
