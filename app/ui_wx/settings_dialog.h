// The Remote Service dialog, field for field as in the product's seed documents: Enable,
// Allow remote assistance, service organisation ID, verification code, serial number
// (read-only, from the licence), the proxy server, the service account, and the buttons
// Connect, Restart and Save over a feedback area. Every rule lives in the core
// (remote_service_settings.h, desktop_model.h); this dialog copies values in and out,
// shows each field's problem next to it, and says where the passwords are kept.
//
// Threading: wx main thread; Connect's check runs on a worker thread and reports back
// with CallAfter.
#pragma once

#include <wx/dialog.h>
#include <wx/timer.h>

#include <functional>
#include <map>
#include <string>

#include "app/core/desktop_model.h"
#include "app/core/paths.h"
#include "app/core/secret_store.h"
#include "app/core/settings.h"

class wxCheckBox;
class wxRadioButton;
class wxTextCtrl;
class wxStaticText;
class wxChoice;

namespace lifeline {

class RemoteServiceDialog : public wxDialog {
 public:
  struct Context {
    AppPaths paths;
    Settings* settings = nullptr;       // The app's settings; updated on Save.
    SecretStore* store = nullptr;       // Where the passwords go.
    std::string store_fallback_reason;  // Why the keyring is not used ("" if it is).
    LicenceInfo licence;
    std::string connect_target;  // HOST:PORT Connect tries; "" when none is configured.
    std::function<wxString()> service_status;  // The host service's status in words.
    std::function<void()> restart_service;     // Restarts it with the saved settings.
  };
  RemoteServiceDialog(wxWindow* parent, Context context);

  // The same paths as typing and clicking, for the GUI test hook. Field names: enable,
  // allow, organisation_id, verification_code, proxy_auto, proxy_manual, proxy_host,
  // proxy_port, proxy_auth, proxy_user, proxy_password, proxy_domain, account_other,
  // account_local, service_user, service_password, language (system|en|it).
  bool SetField(const std::string& name, const std::string& value);
  std::string GetField(const std::string& name) const;  // "serial" too; "?" if unknown.
  bool Press(const std::string& button);                // connect, restart, save.
  std::string FeedbackText() const;
  std::string FieldProblemText(const std::string& name) const;  // "" when fine.

 private:
  void Load(const RemoteServiceSettings& s);
  RemoteServiceSettings ReadForm(bool* port_text_ok) const;
  void Revalidate();
  void UpdateEnabled();
  void OnSave();
  void OnConnect();
  void OnRestart();
  bool SaveForm();
  void AddFeedback(const wxString& line);

  Context context_;
  wxCheckBox* enable_ = nullptr;
  wxCheckBox* allow_ = nullptr;
  wxTextCtrl* organisation_id_ = nullptr;
  wxTextCtrl* verification_code_ = nullptr;
  wxTextCtrl* serial_ = nullptr;
  wxCheckBox* proxy_auto_ = nullptr;
  wxCheckBox* proxy_manual_ = nullptr;
  wxTextCtrl* proxy_host_ = nullptr;
  wxTextCtrl* proxy_port_ = nullptr;
  wxCheckBox* proxy_auth_ = nullptr;
  wxTextCtrl* proxy_user_ = nullptr;
  wxTextCtrl* proxy_password_ = nullptr;
  wxTextCtrl* proxy_domain_ = nullptr;
  wxRadioButton* account_local_ = nullptr;
  wxRadioButton* account_other_ = nullptr;
  wxTextCtrl* service_user_ = nullptr;
  wxTextCtrl* service_password_ = nullptr;
  wxChoice* language_ = nullptr;
  wxStaticText* status_ = nullptr;
  wxTextCtrl* feedback_ = nullptr;
  std::map<RemoteServiceField, wxStaticText*> problems_;
  wxTimer status_timer_;
};

// Translated text for a field problem (the core's FieldProblem).
wxString ProblemLabel(FieldProblem problem);

}  // namespace lifeline
