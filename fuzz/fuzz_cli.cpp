// libFuzzer target: the command line of `accelbench`. The input, split at
// NUL bytes and newlines, is argv[1...]; cli::validate_command_line reads
// and checks it as cli::main does (CLI11, the suite options, the suite file
// it names) and runs nothing. Its errors become exit statuses; an exception
// escaping it, a crash or a sanitizer report is a finding.

#include <accelbench/cli/main.hpp>

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <streambuf>
#include <string>
#include <vector>

namespace {

// Help and error text is thrown away: output costs time.
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static NullBuffer null_buffer;
  static const bool silenced = [] {
    std::cout.rdbuf(&null_buffer);
    std::cerr.rdbuf(&null_buffer);
    return true;
  }();
  (void)silenced;
  std::vector<std::string> args{"accelbench"};
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\0' || c == '\n') {
      args.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) args.push_back(current);
  if (args.size() > 64) return -1;  // a command line, not a list: not added to the corpus
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  (void)accelbench::cli::validate_command_line(static_cast<int>(args.size()), argv.data());
  return 0;
}
