// accelbench's side of bench/peers/peers.py: a BERT, ViT, GPT-2 or Llama
// checkpoint folder (config.json and model.safetensors) on the Cpu backend,
// driven line by line over standard input so the driver can interleave its
// rounds with those of the other frameworks. Each command answers one line
// of JSON on standard output ({"error": ...} when it fails):
//
//   load KIND DIR [PREC]   loads the checkpoint        {"parameters": n}
//                          (KIND: bert, vit, gpt2 or llama; PREC, for gpt2
//                          and llama: fp32, bf16 or fp16, the precision the
//                          linear layers' weights are stored at; they also
//                          answer "step_bytes", the bytes of the weights one
//                          decode step multiplies)
//   input BATCH SEQ FILE   bert, gpt2, llama: token ids, int32, BATCH*SEQ;
//                          vit: pixels, float32, BATCH*3*SEQ*SEQ (SEQ: the
//                          image size)
//   phase PHASE            gpt2, llama: what a pass is (default prefill)
//                            prefill  the prompt through the model, the
//                                     greedy choice of its last position
//                            decode   one step after the prompt: the first
//                                     prompt token fed at position SEQ, the
//                                     cache cut back to the prompt first
//   time N                 N passes                    {"seconds": [...]}
//   output FILE            one pass, as float32 [rows, cols]: the last hidden
//                          state (bert, vit), the logits of the prompt's last
//                          position (prefill) or of the step (decode)
//                                                      {"rows": r, "cols": c}
//   limits                 this machine's limits on these threads:
//                          {"fma_gflops", "read_gbs", "gemm": [{m, n, k, gflops}]}
//   read BYTES             the time to read BYTES with these threads, per
//                          try, from reading min(BYTES, 1 GiB)
//                                                      {"seconds": [...]}
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

#include <algorithm>
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

/// A generative model (Gpt2<Cpu>, Llama<Cpu>) behind the commands: its
/// session over one prompt, and which phase a pass is.
class Generating {
 public:
  virtual ~Generating() = default;
  [[nodiscard]] virtual std::int64_t parameters() const = 0;
  /// A session over `ids` (batch x len, row-major) with room for one step.
  virtual void input(std::vector<std::int32_t> ids, int batch, int len) = 0;
  void phase(const std::string& p) {
    if (p != "prefill" && p != "decode") throw std::runtime_error("phase: " + p + ": expected prefill or decode");
    decode_ = p == "decode";
  }
  /// What precedes every pass, untimed: the cache cut back to the prompt
  /// and the step's token set (decode).
  virtual void reset() = 0;
  /// One pass; its logits.
  virtual const HostMatrix& run() = 0;

 protected:
  bool decode_ = false;
};

template <class Model>
class GeneratingOf final : public Generating {
 public:
  GeneratingOf(Cpu& cpu, GenerativeConfig config, WeightMap weights)
      : cpu_(cpu), model_(cpu, std::move(config), std::move(weights)) {}
  [[nodiscard]] std::int64_t parameters() const override { return model_.parameters(); }
  void input(std::vector<std::int32_t> ids, int batch, int len) override {
    step_ids_.clear();
    for (int b = 0; b < batch; ++b) step_ids_.push_back(ids[static_cast<std::size_t>(b) * static_cast<std::size_t>(len)]);
    session_ = model_.start(cpu_, ids, batch, len, 1);
    model_.prefill(cpu_, *session_);
  }
  void reset() override {
    if (!session_) throw std::runtime_error("no input");
    session_->length = session_->prompt_len;
    session_->next_ids = cpu_.upload_indices(step_ids_);
  }
  const HostMatrix& run() override {
    if (decode_) {
      model_.decode(cpu_, *session_);
      return session_->step.logits;
    }
    model_.prefill(cpu_, *session_);
    return session_->prefill.logits;
  }

 private:
  Cpu& cpu_;
  Model model_;
  std::optional<typename Model::Session> session_;
  std::vector<std::int32_t> step_ids_;
};

/// GFLOP/s of Cpu::linear at [m, k] x [n, k]ᵀ on a layer's weight, the median of at least 0.3 s.
double linear_gflops(Cpu& cpu, Eigen::Index m, Eigen::Index n, Eigen::Index k) {
  const HostMatrix x = synthetic_tensor("x", m, k, 1, 0.0f, 1.0f);
  const Cpu::Weight w(synthetic_tensor("w", n, k, 2, 0.0f, 0.02f));  // as a model's layer holds it: packed once
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
      generating_.reset();
      if (kind == "bert") {
        bert_.model = std::make_unique<Bert<Cpu>>(cpu_, bert_config_from_checkpoint(dir), bert_weights_from_checkpoint(dir));
        return {{"parameters", bert_.model->parameters()}};
      }
      if (kind == "gpt2" || kind == "llama") {
        std::string precision = "fp32";
        in >> precision;
        GenerativeConfig config = generative_config_from_checkpoint(dir);
        if (config.architecture != kind && !(kind == "llama" && config.architecture == "qwen2")) {
          throw std::runtime_error("load: " + dir + " holds a " + config.architecture + " checkpoint, not " + kind);
        }
        config.weight_precision = parse_precision(precision);
        // What one decode step reads: every weight but the tables it only
        // looks up (an untied token table, GPT-2's positions), at the
        // precision (the norms and biases, well under 1%, counted so too).
        std::int64_t looked_up = config.tied_embeddings ? 0 : std::int64_t{config.vocab_size} * config.hidden;
        if (config.architecture == "gpt2") looked_up += std::int64_t{config.max_positions} * config.hidden;
        const std::int64_t step_bytes = (config.parameter_count() - looked_up) * precision_bytes(config.weight_precision);
        WeightMap weights = generative_weights_from_checkpoint(dir, config);
        if (kind == "gpt2") {
          generating_ = std::make_unique<GeneratingOf<Gpt2<Cpu>>>(cpu_, std::move(config), std::move(weights));
        } else {
          generating_ = std::make_unique<GeneratingOf<Llama<Cpu>>>(cpu_, std::move(config), std::move(weights));
        }
        return {{"parameters", generating_->parameters()}, {"step_bytes", step_bytes}};
      }
      if (kind == "vit") {
        ViTConfig config = vit_config_from_checkpoint(dir);
        WeightMap weights = vit_weights_from_checkpoint(dir, config);
        vit_.model = std::make_unique<ViT<Cpu>>(cpu_, std::move(config), std::move(weights));
        return {{"parameters", vit_.model->parameters()}};
      }
      throw std::runtime_error("load: kind = " + kind + ": expected bert, vit, gpt2 or llama");
    }
    if (!bert_.model && !vit_.model && !generating_ && command != "limits" && command != "read") {
      throw std::runtime_error(command + ": no model loaded");
    }
    if (command == "phase") {
      std::string phase;
      in >> phase;
      if (!generating_) throw std::runtime_error("phase: only gpt2 and llama have phases");
      generating_->phase(phase);
      return {{"phase", phase}};
    }
    if (command == "input") {
      int batch = 0, seq = 0;
      std::string path;
      in >> batch >> seq >> path;
      if (batch < 1 || seq < 1) throw std::runtime_error("input: batch and sequence must be >= 1");
      const auto n = static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq);
      if (generating_) {
        std::vector<std::int32_t> ids(n);
        read_values(path, n, ids.data());
        generating_->input(std::move(ids), batch, seq);
      } else if (bert_.model) {
        BertInput input = make_bert_input(bert_.model->config(), batch, seq, 1);
        read_values(path, n, input.input_ids.data());
        bert_.ws = bert_.model->prepare(cpu_, input);
      } else {
        ImageBatch images{batch, 3, seq, HostMatrix(batch, 3 * seq * seq)};
        read_values(path, static_cast<std::size_t>(images.pixels.size()), images.pixels.data());
        vit_.ws = vit_.model->prepare(cpu_, images);
      }
      if (generating_) generating_->reset();
      pass();  // first touch of every buffer, untimed
      return {{"inputs", batch}};
    }
    if (command == "time") {
      int n = 0;
      in >> n;
      std::vector<double> seconds;
      for (int i = 0; i < n; ++i) {
        if (generating_) generating_->reset();
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
      if (generating_) generating_->reset();
      const HostMatrix& h = pass();
      std::ofstream out(path, std::ios::binary);
      out.write(reinterpret_cast<const char*>(h.data()), static_cast<std::streamsize>(h.size() * sizeof(float)));
      if (!out) throw std::runtime_error("output: cannot write " + path);
      return {{"rows", h.rows()}, {"cols", h.cols()}};
    }
    if (command == "limits") return limits();
    if (command == "read") {
      // The seconds to read `bytes` with every thread, from reading at most
      // 1 GiB (scaled: far past the caches the time is linear in the bytes).
      double bytes = 0;
      in >> bytes;
      if (!(bytes > 0)) throw std::runtime_error("read: bytes must be > 0");
      const double chunk = std::min(bytes, double(std::uint64_t{1} << 30));
      std::vector<double> seconds = benchutil::read_samples(cpu_.threads(), static_cast<std::uint64_t>(chunk), 1.0);
      for (double& t : seconds) t *= bytes / chunk;
      return {{"seconds", seconds}};
    }
    throw std::runtime_error("unknown command: " + command);
  }

 private:
  /// One forward pass to the last hidden state (BERT: the encoder without
  /// the pooling, as transformers' last_hidden_state), or one pass of a
  /// generative model's phase to its logits.
  const HostMatrix& pass() {
    if (generating_) return generating_->run();
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
  std::unique_ptr<Generating> generating_;
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
