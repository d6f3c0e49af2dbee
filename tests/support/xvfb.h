// A private Xvfb server for one test: started with -displayfd (the server picks a free
// display number), stopped by its PID in the destructor.
#pragma once

#include <sys/types.h>

#include <string>

namespace lifeline::testing {

class Xvfb {
 public:
  // Starts `Xvfb -displayfd ... -screen 0 {width}x{height}x24 -nolisten tcp`. Throws
  // std::runtime_error when Xvfb is missing or does not come up within 10 s.
  Xvfb(int width = 1280, int height = 720);
  ~Xvfb();
  Xvfb(const Xvfb&) = delete;
  Xvfb& operator=(const Xvfb&) = delete;

  const std::string& display() const { return display_; }  // ":N"
  pid_t pid() const { return pid_; }

  // Starts openbox on this display (a real window manager); stopped with the server.
  void StartWindowManager();

 private:
  pid_t pid_ = -1;
  pid_t wm_pid_ = -1;
  std::string display_;
};

}  // namespace lifeline::testing
