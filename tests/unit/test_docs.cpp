// Every C++ snippet in README.md and docs/*.md is a program CI builds: each
// ```cpp block must follow a marker naming its source,
//     <!-- snippet: examples/quickstart.cpp -->           (the whole file)
//     <!-- snippet: examples/concepts_minimal.cpp#timer -->  (a region)
// and match that source, where a region lies between the lines
// "// [snippet timer]" and "// [end snippet]".

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path source_dir{ACCELBENCH_SOURCE_DIR};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE_MESSAGE(in, "cannot read " << p.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::string region(const fs::path& file, const std::string& name) {
  const auto lines = lines_of(read(file));
  if (name.empty()) return join(lines);
  std::vector<std::string> out;
  bool inside = false;
  bool found = false;
  for (const auto& l : lines) {
    const auto trimmed = l.substr(std::min(l.size(), l.find_first_not_of(' ')));
    if (trimmed == "// [snippet " + name + "]") {
      inside = found = true;
      continue;
    }
    if (inside && trimmed == "// [end snippet]") {
      inside = false;
      continue;
    }
    if (inside) out.push_back(l);
  }
  REQUIRE_MESSAGE(found, "no region '" << name << "' in " << file.string());
  return join(out);
}

struct Snippet {
  fs::path doc;
  std::size_t line = 0;
  std::string source;  // "" when the block has no marker
  std::string body;
};

std::vector<Snippet> snippets_of(const fs::path& doc) {
  std::vector<Snippet> out;
  const auto lines = lines_of(read(doc));
  const std::string marker = "<!-- snippet: ";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] != "```cpp") continue;
    Snippet s;
    s.doc = doc;
    s.line = i + 1;
    for (std::size_t j = i; j-- > 0;) {
      if (lines[j].empty()) continue;
      if (lines[j].rfind(marker, 0) == 0) {
        s.source = lines[j].substr(marker.size(), lines[j].find(" -->") - marker.size());
      }
      break;
    }
    std::vector<std::string> body;
    for (++i; i < lines.size() && lines[i] != "```"; ++i) body.push_back(lines[i]);
    s.body = join(body);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

TEST_CASE("every C++ snippet in the documentation is a built example, verbatim") {
  std::vector<fs::path> docs = {source_dir / "README.md"};
  for (const auto& e : fs::directory_iterator(source_dir / "docs")) {
    if (e.path().extension() == ".md") docs.push_back(e.path());
  }
  std::size_t checked = 0;
  for (const auto& doc : docs) {
    for (const auto& s : snippets_of(doc)) {
      CAPTURE(s.doc.string());
      CAPTURE(s.line);
      REQUIRE_MESSAGE(!s.source.empty(), "a ```cpp block without a <!-- snippet: ... --> marker");
      const auto hash = s.source.find('#');
      const fs::path file = source_dir / s.source.substr(0, hash);
      const std::string name = hash == std::string::npos ? "" : s.source.substr(hash + 1);
      CHECK_MESSAGE(s.body == region(file, name), "the snippet differs from " << s.source);
      ++checked;
    }
  }
  CHECK(checked >= 6);  // the README's quickstart and the five minimal policies
}
