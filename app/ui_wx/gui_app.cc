#include "app/ui_wx/gui_app.h"

#include <wx/wx.h>

#include "app/core/paths.h"
#include "base/version.h"
#include "net/tcp.h"

namespace lifeline {
namespace {

// The minimal main window: both sides of the product, the "Control a remote computer"
// side already working (it starts `lifeline view` as a child process, per
// architecture.md decision 1); the "Allow remote control" side shows how to share until
// IDs and one-time passwords exist.
class MainFrame : public wxFrame {
 public:
  explicit MainFrame(const AppPaths& paths)
      : wxFrame(nullptr, wxID_ANY, "Lifeline", wxDefaultPosition, wxSize(720, 360)) {
    auto* panel = new wxPanel(this);
    auto* columns = new wxBoxSizer(wxHORIZONTAL);

    auto* allow = new wxStaticBoxSizer(wxVERTICAL, panel, "Allow remote control");
    allow->Add(new wxStaticText(allow->GetStaticBox(), wxID_ANY,
                                "To let someone see this screen, run\n"
                                "  lifeline host\n"
                                "and give them this computer's address."),
               0, wxALL, 8);
    columns->Add(allow, 1, wxEXPAND | wxALL, 8);

    auto* control = new wxStaticBoxSizer(wxVERTICAL, panel, "Control a remote computer");
    control->Add(new wxStaticText(control->GetStaticBox(), wxID_ANY, "Partner address"), 0,
                 wxLEFT | wxTOP, 8);
    partner_ = new wxTextCtrl(control->GetStaticBox(), wxID_ANY, "127.0.0.1:7070");
    control->Add(partner_, 0, wxEXPAND | wxALL, 8);
    auto* connect = new wxButton(control->GetStaticBox(), wxID_ANY, "Connect");
    control->Add(connect, 0, wxALL, 8);
    status_ = new wxStaticText(control->GetStaticBox(), wxID_ANY, "Not connected");
    control->Add(status_, 0, wxALL, 8);
    columns->Add(control, 1, wxEXPAND | wxALL, 8);

    panel->SetSizer(columns);
    CreateStatusBar();
    SetStatusText(wxString::Format("Lifeline %s%s - settings: %s", kVersionString,
                                   paths.portable ? " (portable)" : "", paths.settings_file));
    connect->Bind(wxEVT_BUTTON, &MainFrame::OnConnect, this);
  }

 private:
  void OnConnect(wxCommandEvent&) {
    const std::string address = partner_->GetValue().ToStdString();
    auto parsed = ParseHostPort(address);
    if (!parsed.ok()) {
      status_->SetLabel(wxString::FromUTF8(parsed.error().message));
      return;
    }
    // The viewer runs as a child process of this executable (SDL and wx both want the
    // main thread; a crashing decoder cannot take the window down).
    const std::string exe = ExecutableDir() + "/lifeline";
    const char* argv[] = {exe.c_str(), "view", address.c_str(), nullptr};
    const long pid = wxExecute(const_cast<char**>(argv), wxEXEC_ASYNC);
    status_->SetLabel(pid > 0 ? wxString::Format("Viewer started for %s", address)
                              : wxString("Could not start the viewer"));
  }

  wxTextCtrl* partner_;
  wxStaticText* status_;
};

class DesktopApp : public wxApp {
 public:
  explicit DesktopApp(const AppPaths& paths) : paths_(paths) {}
  bool OnInit() override {
    auto* frame = new MainFrame(paths_);
    frame->Show();
    return true;
  }

 private:
  AppPaths paths_;
};

}  // namespace

int RunDesktopApp(int argc, char** argv, const AppPaths& paths) {
  wxApp::SetInstance(new DesktopApp(paths));
  return wxEntry(argc, argv);
}

}  // namespace lifeline
