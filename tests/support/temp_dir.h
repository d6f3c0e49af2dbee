// A temporary folder removed (recursively) when the object goes out of scope.
#pragma once

#include <string>

namespace lifeline::testing {

class TempDir {
 public:
  TempDir();  // Creates /tmp/lifeline-test-XXXXXX (or under $TMPDIR).
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFileToString(const std::string& path);
void WriteStringToFile(const std::string& path, const std::string& content);

}  // namespace lifeline::testing
