// libFuzzer target: the command line of `accelbench`. The input, split at
// NUL bytes and newlines, is argv[1...]; cli::validate_command_line reads
// and checks it as cli::main does (CLI11, the suite options, the suite file
// it names) and runs nothing. Its errors become exit statuses; an exception
// escaping it, a crash or a sanitizer report is a finding. At start, a few
// command lines of known answer check validate_command_line itself.

#include <accelbench/cli/main.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
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

int validate(std::vector<std::string> args) {
  args.insert(args.begin(), "accelbench");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return accelbench::cli::validate_command_line(static_cast<int>(args.size()), argv.data());
}

// Command lines whose answer is known: the target stops at once when
// validate_command_line gives another.
void expect(int status, std::vector<std::string> args) {
  if (validate(args) != status) {
    std::string line;
    for (const auto& a : args) line += " " + a;
    std::fprintf(stderr, "fuzz_cli: 'accelbench%s' was expected to give exit status %d\n", line.c_str(), status);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace accelbench::cli;
  std::ostringstream sink;
  std::streambuf* const out = std::cout.rdbuf(sink.rdbuf());
  std::streambuf* const err = std::cerr.rdbuf(sink.rdbuf());
  expect(exit_ok, {"run", "--models", "bert-tiny", "--batch-sizes", "1,2"});
  expect(exit_ok, {"compare", "--threads", "1,2", "--models", "bert-tiny"});
  expect(exit_ok, {"presets"});
  expect(exit_ok, {"run", "--help"});
  expect(exit_usage_error, {"bogus"});
  expect(exit_usage_error, {"run", "--models", "no-such-model"});
  expect(exit_usage_error, {"run", "--threads", "1,2"});
  expect(exit_usage_error, {"run", "--batch-sizes", "0"});
  expect(exit_usage_error, {"compare", "--models", "bert-tiny"});
  expect(exit_usage_error, {"run", "--suite", "/nonexistent/suite.json"});
  std::cout.rdbuf(out);
  std::cerr.rdbuf(err);
  return 0;
}

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
