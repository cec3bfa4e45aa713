// accelbench's side of bench/peers/peers.py: a BERT or ViT checkpoint folder
// (config.json and model.safetensors) on the Cpu backend, driven line by line
// over standard input so the driver can interleave its rounds with those of
// the other frameworks. Each command answers one line of JSON on standard
// output ({"error": ...} when it fails):
//
//   load KIND DIR          loads the checkpoint        {"parameters": n}
//                          (KIND: bert or vit)
//   input BATCH SEQ FILE   bert: token ids, int32, BATCH*SEQ; vit: pixels,
//                          float32, BATCH*3*SEQ*SEQ (SEQ: the image size)
//   time N                 N forward passes            {"seconds": [...]}
//   output FILE            one pass, last hidden state {"rows": r, "cols": c}
//                          as float32 [rows, hidden]
//   limits                 this machine's limits on these threads:
//                          {"fma_gflops", "read_gbs", "gemm": [{m, n, k, gflops}]}
//   quit
//
//   bench_peers_worker --threads N
//
// Like `accelbench`, it starts again with OMP_WAIT_POLICY=passive unless the
// variable is set (detail::run_with_passive_omp_wait): what a user of the
// runner gets is what is compared.

#include <accelbench/accelbench.hpp>

#include <nlohmann/json.hpp>

#include "../common.hpp"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace accelbench;
using json = nlohmann::json;

namespace {

/// `count` values of T from a raw little-endian file.
template <class T>
void read_values(const std::string& path, std::size_t count, T* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("input: cannot open " + path);
  in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(count * sizeof(T)));
  if (in.gcount() != static_cast<std::streamsize>(count * sizeof(T))) {
    throw std::runtime_error("input: " + path + " holds fewer than " + std::to_string(count) + " values");
  }
}

/// One model and its workspace: Model is Bert<Cpu> or ViT<Cpu>.
template <class Model>
struct Loaded {
  std::unique_ptr<Model> model;
  std::optional<typename Model::Workspace> ws;
};

/// GFLOP/s of Cpu::linear at [m, k] x [n, k]ᵀ, the median of at least 0.3 s.
double linear_gflops(Cpu& cpu, Eigen::Index m, Eigen::Index n, Eigen::Index k) {
  const HostMatrix x = synthetic_tensor("x", m, k, 1, 0.0f, 1.0f);
  const HostMatrix w = synthetic_tensor("w", n, k, 2, 0.0f, 0.02f);
  const HostMatrix b = synthetic_tensor("b", 1, n, 3, 0.0f, 0.02f);
  HostMatrix y;
  cpu.linear(x, w, b, y);
  std::vector<double> samples;
  SteadyTimer total;
  total.start();
  while (total.stop() < 0.3 || samples.size() < 5) {
    SteadyTimer t;
    t.start();
    cpu.linear(x, w, b, y);
    samples.push_back(t.stop());
  }
  do_not_optimize(y.data());
  return 2.0 * static_cast<double>(m * n * k) / *PercentileStats::summarize(samples).median / 1e9;
}

class Worker {
 public:
  explicit Worker(int threads) : cpu_(Cpu::Options{.threads = threads}) {}

  json handle(const std::string& line) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "load") {
      std::string kind, dir;
      in >> kind >> dir;
      bert_ = {};
      vit_ = {};
      if (kind == "bert") {
        bert_.model = std::make_unique<Bert<Cpu>>(cpu_, bert_config_from_checkpoint(dir), bert_weights_from_checkpoint(dir));
        return {{"parameters", bert_.model->parameters()}};
      }
      if (kind == "vit") {
        ViTConfig config = vit_config_from_checkpoint(dir);
        WeightMap weights = vit_weights_from_checkpoint(dir, config);
        vit_.model = std::make_unique<ViT<Cpu>>(cpu_, std::move(config), std::move(weights));
        return {{"parameters", vit_.model->parameters()}};
      }
      throw std::runtime_error("load: kind = " + kind + ": expected bert or vit");
    }
    if (!bert_.model && !vit_.model && command != "limits") throw std::runtime_error(command + ": no model loaded");
    if (command == "input") {
      int batch = 0, seq = 0;
      std::string path;
      in >> batch >> seq >> path;
      if (batch < 1 || seq < 1) throw std::runtime_error("input: batch and sequence must be >= 1");
      const auto n = static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq);
      if (bert_.model) {
        BertInput input = make_bert_input(bert_.model->config(), batch, seq, 1);
        read_values(path, n, input.input_ids.data());
        bert_.ws = bert_.model->prepare(cpu_, input);
      } else {
        ImageBatch images{batch, 3, seq, HostMatrix(batch, 3 * seq * seq)};
        read_values(path, static_cast<std::size_t>(images.pixels.size()), images.pixels.data());
        vit_.ws = vit_.model->prepare(cpu_, images);
      }
      pass();  // first touch of every buffer, untimed
      return {{"inputs", batch}};
    }
    if (command == "time") {
      int n = 0;
      in >> n;
      std::vector<double> seconds;
      for (int i = 0; i < n; ++i) {
        SteadyTimer t;
        t.start();
        pass();
        seconds.push_back(t.stop());
      }
      return {{"seconds", seconds}};
    }
    if (command == "output") {
      std::string path;
      in >> path;
      const HostMatrix& h = pass();
      std::ofstream out(path, std::ios::binary);
      out.write(reinterpret_cast<const char*>(h.data()), static_cast<std::streamsize>(h.size() * sizeof(float)));
      if (!out) throw std::runtime_error("output: cannot write " + path);
      return {{"rows", h.rows()}, {"cols", h.cols()}};
    }
    if (command == "limits") return limits();
    throw std::runtime_error("unknown command: " + command);
  }

 private:
  /// One forward pass to the last hidden state (BERT: the encoder without
  /// the pooling, as transformers' last_hidden_state).
  const HostMatrix& pass() {
    if (bert_.model) {
      if (!bert_.ws) throw std::runtime_error("no input");
      bert_.model->encode(cpu_, *bert_.ws);
      return bert_.ws->hidden;
    }
    if (!vit_.ws) throw std::runtime_error("no input");
    vit_.model->forward(cpu_, *vit_.ws);
    return vit_.ws->hidden;
  }

  json limits() {
    const int threads = cpu_.threads();
    const std::vector<double> reads = benchutil::read_samples(threads, std::uint64_t{256} << 20, 1.0);
    json gemm = json::array();
    // BERT-base's products at batch 1 x 128 tokens: QKV and output, up, down.
    for (const auto& [m, n, k] : {std::tuple{128, 768, 768}, std::tuple{128, 3072, 768}, std::tuple{128, 768, 3072}}) {
      gemm.push_back({{"m", m}, {"n", n}, {"k", k}, {"gflops", linear_gflops(cpu_, m, n, k)}});
    }
    return {{"threads", threads},
            {"fma_gflops", benchutil::fma_peak_gflops(threads)},
            {"read_gbs", 256.0 * (1 << 20) / *PercentileStats::summarize(reads).median / 1e9},
            {"gemm", gemm}};
  }

  Cpu cpu_;
  Loaded<Bert<Cpu>> bert_;
  Loaded<ViT<Cpu>> vit_;
};

}  // namespace

int main(int argc, char** argv) {
  accelbench::detail::run_with_passive_omp_wait(argv);
  int threads = 1;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--threads") threads = std::atoi(argv[i + 1]);
  }
  if (threads < 1) {
    std::cerr << "bench_peers_worker: --threads must be >= 1\n";
    return 2;
  }
  Worker worker(threads);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "quit") break;
    if (line.empty()) continue;
    json reply;
    try {
      reply = worker.handle(line);
    } catch (const std::exception& e) {
      reply = {{"error", e.what()}};
    }
    std::cout << reply.dump() << std::endl;
  }
  return 0;
}
