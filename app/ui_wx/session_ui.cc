#include "app/ui_wx/session_ui.h"

#include <wx/button.h>
#include <wx/dialog.h>
#include <wx/display.h>
#include <wx/filename.h>
#include <wx/intl.h>
#include <wx/panel.h>
#include <wx/sizer.h>
#include <wx/stattext.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "app/ui_wx/ui_thread.h"
#include "net/tls/device_identity.h"

namespace lifeline {
namespace {

constexpr int kUiTimeoutMs = 5000;  // How long the service thread waits for a window.

wxString PeerLine(const PeerInfo& peer) {
  return wxString::Format(_("Partner %s (%s)"), wxString::FromUTF8(FormatDeviceId(peer.device_id)),
                          wxString::FromUTF8(peer.address));
}

wxString AllowedLine(const SessionPermissions& p) {
  wxString allowed = _("view");
  if (p.control)
    allowed += ", " + _("control");
  if (p.clipboard)
    allowed += ", " + _("clipboard");
  if (p.files)
    allowed += ", " + _("files");
  return wxString::Format(_("Allowed: %s"), allowed);
}

struct ConsentAnswer {
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<ConsentDecision> decision;
  void Set(ConsentDecision d) {
    std::lock_guard lock(mutex);
    if (!decision)
      decision = d;
    cv.notify_all();
  }
};

}  // namespace

// The incoming-connection prompt: Accept / Deny, denied by itself when time runs out.
class ConsentDialog : public wxDialog {
 public:
  ConsentDialog(const PeerInfo& peer,
                int timeout_ms,
                std::shared_ptr<ConsentAnswer> answer,
                std::function<void()> on_close)
      : wxDialog(nullptr,
                 wxID_ANY,
                 _("Incoming connection"),
                 wxDefaultPosition,
                 wxDefaultSize,
                 wxCAPTION | wxSTAY_ON_TOP),
        answer_(std::move(answer)),
        on_close_(std::move(on_close)),
        deadline_(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)),
        timer_(this) {
    auto* sizer = new wxBoxSizer(wxVERTICAL);
    sizer->Add(new wxStaticText(this, wxID_ANY, _("Someone wants to connect to this computer:")), 0,
               wxALL, 12);
    sizer->Add(new wxStaticText(this, wxID_ANY, PeerLine(peer)), 0, wxLEFT | wxRIGHT, 12);
    countdown_ = new wxStaticText(this, wxID_ANY, wxString());
    sizer->Add(countdown_, 0, wxALL, 12);
    auto* buttons = new wxBoxSizer(wxHORIZONTAL);
    auto* deny = new wxButton(this, wxID_NO, _("Deny"));
    auto* accept = new wxButton(this, wxID_YES, _("Accept"));
    buttons->Add(deny, 0, wxRIGHT, 8);
    buttons->Add(accept, 0);
    sizer->Add(buttons, 0, wxALIGN_RIGHT | wxALL, 12);
    SetSizerAndFit(sizer);
    deny->SetDefault();  // Enter must not let someone in by accident.
    deny->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { Finish(ConsentDecision::kDenied); });
    accept->Bind(wxEVT_BUTTON, [this](wxCommandEvent&) { Finish(ConsentDecision::kAccepted); });
    Bind(wxEVT_CLOSE_WINDOW, [this](wxCloseEvent&) { Finish(ConsentDecision::kDenied); });
    Bind(wxEVT_TIMER, [this](wxTimerEvent&) { Tick(); });
    Tick();
    timer_.Start(250);
    CentreOnScreen();
  }

  void Finish(ConsentDecision decision) {
    if (done_)
      return;
    done_ = true;
    timer_.Stop();
    answer_->Set(decision);
    if (on_close_)
      on_close_();
    Destroy();
  }

 private:
  void Tick() {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(
        deadline_ - std::chrono::steady_clock::now() + std::chrono::milliseconds(999));
    if (left.count() <= 0) {
      Finish(ConsentDecision::kTimedOut);
      return;
    }
    countdown_->SetLabel(
        wxString::Format(_("Denied automatically in %d s."), static_cast<int>(left.count())));
  }

  std::shared_ptr<ConsentAnswer> answer_;
  std::function<void()> on_close_;
  std::chrono::steady_clock::time_point deadline_;
  wxStaticText* countdown_ = nullptr;
  wxTimer timer_;
  bool done_ = false;
};

SessionOverlay::SessionOverlay(const PeerInfo& peer,
                               SessionPermissions permissions,
                               std::function<void()> on_disconnect,
                               std::function<void(bool)> on_pause)
    : wxFrame(nullptr,
              wxID_ANY,
              _("Lifeline session"),
              wxDefaultPosition,
              wxSize(kWidth, kHeight),
              wxSTAY_ON_TOP | wxFRAME_NO_TASKBAR | wxBORDER_NONE),
      start_(std::chrono::steady_clock::now()),
      on_disconnect_(std::move(on_disconnect)),
      on_pause_(std::move(on_pause)),
      timer_(this) {
  auto* panel = new wxPanel(this);
  panel->SetBackgroundColour(wxColour(0x1f, 0x4e, 0x79));
  panel->SetForegroundColour(*wxWHITE);
  auto* sizer = new wxBoxSizer(wxVERTICAL);
  auto* title = new wxStaticText(panel, wxID_ANY, _("Remote session active"));
  title->SetFont(title->GetFont().Bold());
  sizer->Add(title, 0, wxLEFT | wxRIGHT | wxTOP, 8);
  sizer->Add(new wxStaticText(panel, wxID_ANY, PeerLine(peer)), 0, wxLEFT | wxRIGHT | wxTOP, 8);
  auto* line = new wxBoxSizer(wxHORIZONTAL);
  elapsed_ = new wxStaticText(panel, wxID_ANY, wxString());
  line->Add(elapsed_, 0, wxRIGHT, 16);
  line->Add(new wxStaticText(panel, wxID_ANY, AllowedLine(permissions)), 0);
  sizer->Add(line, 0, wxLEFT | wxRIGHT | wxTOP, 8);
  auto* buttons = new wxBoxSizer(wxHORIZONTAL);
  pause_ = new wxButton(panel, wxID_ANY, _("Pause control"));
  auto* disconnect = new wxButton(panel, wxID_ANY, _("Disconnect"));
  buttons->Add(pause_, 0, wxRIGHT, 8);
  buttons->Add(disconnect, 0);
  sizer->AddStretchSpacer();
  sizer->Add(buttons, 0, wxALIGN_RIGHT | wxALL, 8);
  panel->SetSizer(sizer);
  for (wxWindow* child : panel->GetChildren()) {
    if (!dynamic_cast<wxButton*>(child))
      child->SetForegroundColour(*wxWHITE);
  }
  pause_->Bind(wxEVT_BUTTON, &SessionOverlay::OnPause, this);
  disconnect->Bind(wxEVT_BUTTON, &SessionOverlay::OnDisconnect, this);
  Bind(wxEVT_TIMER, &SessionOverlay::OnTick, this);
  // The remote side (or anyone) cannot close it: only the session's end does.
  Bind(wxEVT_CLOSE_WINDOW, [this](wxCloseEvent& event) {
    if (event.CanVeto())
      event.Veto();
    else
      Destroy();
  });
  UpdateTexts();
}

wxRect SessionOverlay::Placement() const {
  const wxRect area = wxDisplay(0u).GetClientArea();
  const Rect r =
      OverlayRect(Rect{area.x, area.y, area.width, area.height}, Size{kWidth, kHeight}, kMargin);
  return wxRect(r.x, r.y, r.width, r.height);
}

bool SessionOverlay::ShowOnScreen() {
  const wxRect where = Placement();
  SetSize(where);
  Show();
  Raise();
  timer_.Start(1000);
  return IsShown();
}

void SessionOverlay::UpdateTexts() {
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start_);
  elapsed_->SetLabel(wxString::Format(_("Time: %s"), wxString(FormatElapsed(elapsed))));
}

void SessionOverlay::OnTick(wxTimerEvent&) {
  UpdateTexts();
  // Back where it belongs (a window manager may have placed it elsewhere), and on top:
  // without a window manager _NET_WM_STATE_ABOVE means nothing, so raise it every second.
  const wxRect where = Placement();
  if (GetRect() != where)
    SetSize(where);
  if (!IsShown())
    Show();
  Raise();
}

void SessionOverlay::OnDisconnect(wxCommandEvent&) {
  PressDisconnect();
}

void SessionOverlay::PressDisconnect() {
  if (on_disconnect_)
    on_disconnect_();
}

void SessionOverlay::OnPause(wxCommandEvent&) {
  paused_ = !paused_;
  pause_->SetLabel(paused_ ? _("Resume control") : _("Pause control"));
  if (on_pause_)
    on_pause_(paused_);
}

WxHostSessionUi::WxHostSessionUi(Callbacks callbacks, SessionPermissions permissions)
    : callbacks_(std::move(callbacks)), permissions_(permissions) {}

FileDecision WxHostSessionUi::ConfirmFileTransfer(const PeerInfo& peer,
                                                  const FileTransferRequest& request,
                                                  int timeout_ms) {
  struct Answer {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<FileDecision> decision;
  };
  auto answer = std::make_shared<Answer>();
  auto set = [answer](FileDecision d) {
    std::lock_guard lock(answer->mutex);
    if (!answer->decision)
      answer->decision = d;
    answer->cv.notify_all();
  };
  auto shown = RunOnUiThread<bool>(
      [this, peer, request, set] {
        wxString text =
            wxString::Format(_("%s wants to send you a file:\n\n%s (%s)"),
                             FormatDeviceId(peer.device_id), wxString::FromUTF8(request.name),
                             wxFileName::GetHumanReadableSize(wxULongLong(request.size_bytes)));
        if (request.exists)
          text << "\n\n" << _("A file with this name is already there.");
        auto* dialog = new wxDialog(nullptr, wxID_ANY, _("Incoming file"), wxDefaultPosition,
                                    wxDefaultSize, wxCAPTION | wxSTAY_ON_TOP);
        auto* sizer = new wxBoxSizer(wxVERTICAL);
        sizer->Add(new wxStaticText(dialog, wxID_ANY, text), 0, wxALL, 12);
        auto* buttons = new wxBoxSizer(wxHORIZONTAL);
        const FileDecision yes =
            request.exists ? FileDecision::kAcceptReplace : FileDecision::kAccept;
        file_answer_ = [this, dialog, yes, set, request](bool accept) {
          if (accept)
            files_accepted_.push_back(request.name);
          set(accept ? yes : FileDecision::kDecline);
          file_answer_ = nullptr;
          dialog->Destroy();
        };
        auto add = [&](const wxString& label, bool accept) {
          auto* button = new wxButton(dialog, wxID_ANY, label);
          buttons->Add(button, 0, wxLEFT, 8);
          button->Bind(wxEVT_BUTTON, [this, accept](wxCommandEvent&) {
            if (file_answer_)
              file_answer_(accept);
          });
          return button;
        };
        add(_("Decline"), false)->SetDefault();
        add(request.exists ? _("Replace") : _("Accept"), true);
        sizer->Add(buttons, 0, wxALIGN_RIGHT | wxALL, 12);
        dialog->SetSizerAndFit(sizer);
        dialog->Bind(wxEVT_CLOSE_WINDOW, [this](wxCloseEvent&) {
          if (file_answer_)
            file_answer_(false);
        });
        file_dialog_ = dialog;
        dialog->CentreOnScreen();
        dialog->Show();
        return dialog->IsShown();
      },
      kUiTimeoutMs);
  if (!shown || !*shown)
    return FileDecision::kDecline;
  std::unique_lock lock(answer->mutex);
  answer->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return answer->decision.has_value(); });
  if (answer->decision)
    return *answer->decision;
  answer->decision = FileDecision::kDecline;
  lock.unlock();
  wxTheApp->CallAfter([this] {
    if (file_answer_)
      file_answer_(false);
  });
  return FileDecision::kDecline;
}

bool WxHostSessionUi::AnswerFilePromptForTesting(bool accept) {
  if (!file_answer_)
    return false;
  file_answer_(accept);
  return true;
}

ConsentDecision WxHostSessionUi::RequestConsent(const PeerInfo& peer, int timeout_ms) {
  auto answer = std::make_shared<ConsentAnswer>();
  auto shown = RunOnUiThread<bool>(
      [this, peer, timeout_ms, answer] {
        consent_ = new ConsentDialog(peer, timeout_ms, answer, [this] { consent_ = nullptr; });
        consent_->Show();
        consent_->Raise();
        return consent_->IsShown();
      },
      kUiTimeoutMs);
  if (!shown || !*shown)
    return ConsentDecision::kTimedOut;
  std::unique_lock lock(answer->mutex);
  answer->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms + 2000),
                      [&] { return answer->decision.has_value(); });
  if (!answer->decision) {
    lock.unlock();
    answer->Set(ConsentDecision::kTimedOut);
    wxTheApp->CallAfter([this] {
      if (consent_)
        consent_->Finish(ConsentDecision::kTimedOut);
    });
    return ConsentDecision::kTimedOut;
  }
  return *answer->decision;
}

bool WxHostSessionUi::AnswerConsentForTesting(bool accept) {
  if (!consent_)
    return false;
  consent_->Finish(accept ? ConsentDecision::kAccepted : ConsentDecision::kDenied);
  return true;
}

bool WxHostSessionUi::ShowSessionIndicator(const PeerInfo& peer) {
  auto shown = RunOnUiThread<bool>(
      [this, peer] {
        if (overlay_)
          overlay_->Destroy();
        peer_ = peer;
        started_ = std::chrono::steady_clock::now();
        files_accepted_.clear();
        control_paused_ = false;
        overlay_ = new SessionOverlay(
            peer, permissions_,
            [this] {
              if (callbacks_.disconnect)
                callbacks_.disconnect();
            },
            [this](bool paused) {
              control_paused_ = paused;
              if (callbacks_.pause_control)
                callbacks_.pause_control(paused);
            });
        announced_ = false;
        const bool ok = overlay_->ShowOnScreen();
        if (ok && callbacks_.session_shown)
          callbacks_.session_shown(peer);
        announced_ = ok;
        return ok;
      },
      kUiTimeoutMs);
  if (!shown || !*shown) {
    // Fail closed; make sure no half-shown overlay stays behind.
    wxTheApp->CallAfter([this] {
      if (overlay_) {
        overlay_->Destroy();
        overlay_ = nullptr;
      }
    });
    return false;
  }
  return true;
}

void WxHostSessionUi::HideSessionIndicator() {
  static_cast<void>(RunOnUiThread<bool>(
      [this] {
        if (!overlay_)
          return true;
        overlay_->Destroy();
        overlay_ = nullptr;
        SessionReceipt receipt;
        receipt.peer_id = FormatDeviceId(peer_.device_id);
        receipt.peer_address = peer_.address;
        receipt.duration = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::steady_clock::now() - started_);
        receipt.files_transferred = files_accepted_;
        receipt.control_allowed = permissions_.control;
        if (callbacks_.session_ended)
          callbacks_.session_ended(receipt);
        return true;
      },
      kUiTimeoutMs));
}

void WxHostSessionUi::OnPasswordChanged(const std::string& display_password, bool after_failures) {
  if (!callbacks_.password_changed)
    return;
  wxTheApp->CallAfter([this, display_password, after_failures] {
    callbacks_.password_changed(display_password, after_failures);
  });
}

void ShowSessionReceipt(wxWindow* parent, const SessionReceipt& receipt) {
  auto* dialog = new wxDialog(parent, wxID_ANY, _("Session summary"));
  auto* sizer = new wxBoxSizer(wxVERTICAL);
  wxString text;
  text << wxString::Format(_("Partner: %s (%s)"), wxString::FromUTF8(receipt.peer_id),
                           wxString::FromUTF8(receipt.peer_address))
       << "\n"
       << wxString::Format(_("Duration: %s"), wxString(FormatElapsed(receipt.duration))) << "\n"
       << (receipt.control_allowed ? _("Your partner was allowed to use keyboard and mouse.")
                                   : _("Your screen could only be viewed."))
       << "\n"
       << (receipt.files_transferred.empty()
               ? _("No files were transferred.")
               : wxString::Format(_("Files transferred: %d"),
                                  static_cast<int>(receipt.files_transferred.size())));
  if (!receipt.end_reason.empty())
    text << "\n" << wxString::Format(_("Ended: %s"), wxString::FromUTF8(receipt.end_reason));
  text << "\n" << _("A new one-time password has been created.");
  sizer->Add(new wxStaticText(dialog, wxID_ANY, text), 0, wxALL, 16);
  auto* ok = new wxButton(dialog, wxID_OK, _("OK"));
  sizer->Add(ok, 0, wxALIGN_RIGHT | wxLEFT | wxRIGHT | wxBOTTOM, 16);
  dialog->SetSizerAndFit(sizer);
  ok->Bind(wxEVT_BUTTON, [dialog](wxCommandEvent&) { dialog->Destroy(); });
  dialog->Bind(wxEVT_CLOSE_WINDOW, [dialog](wxCloseEvent&) { dialog->Destroy(); });
  dialog->CentreOnScreen();
  dialog->Show();
}

}  // namespace lifeline
