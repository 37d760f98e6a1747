// Seahorse GPU benchmark driver (suite `gpu`, docs/benchmarks.md).
//
// Runs the patched llama.cpp (ggml-patches/) built with a GPU backend, on a lent GPU machine
// that has a C++/CUDA toolchain but neither Rust nor our model files. crates/bench/gpu/run
// builds it and calls it; seahorse-bench renders what it prints.
//
//   make-model SKELETON BLOCK PREFIX TYPES SEED
//       SKELETON is the header of the default model's GGUF (metadata, tokenizer and tensor
//       table, no tensor data). Writes PREFIX.base.gguf: the same tensors with random
//       values, in the model's own types (TYPES = q) or all in F32 (TYPES = f32); and
//       PREFIX.ahn.gguf: that base plus the AHN block BLOCK, merged as the engine merges.
//       Speed and memory do not depend on the weights' values; exactness checks compare two
//       backends on the same weights.
//   check MODEL NGL WINDOW SINKS TOKENS UBATCH SAVE_AT OUT
//       Evaluates TOKENS seeded random tokens in ubatches of UBATCH with NGL layers on the
//       GPU and writes the logits of every 37th position and the last one to OUT. WINDOW 0:
//       full attention. SAVE_AT > 0: after that many tokens, the sequence state is saved, the
//       context freed, a new one created and the state restored before going on.
//   compare A B
//       JSON: rows, largest |logit|, largest |difference|, rows whose argmax agree.
//   stream MODEL NGL WINDOW SINKS TOKENS CHUNK TIME_LIMIT_S THREADS
//       Streams TOKENS tokens in chunks of CHUNK (ubatches of 512) and prints one JSON object:
//       throughput and device memory per chunk, the saved state's size, decoding speed, and
//       the time to the first token of a 96-token question after restoring the state into
//       a new context. Stops early (and says so) after TIME_LIMIT_S seconds.
//   devices
//       One line per backend device: its type (cpu, gpu, igpu, accel), name and description;
//       the script checks that a GPU build really found its GPU before measuring anything.
#include "ggml-backend.h"
#include "ggml.h"
#include "gguf.h"
#include "llama.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

static void quiet_log(ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

static double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

[[noreturn]] static void die(const std::string & why) {
    std::fprintf(stderr, "gpu_bench: %s\n", why.c_str());
    std::exit(1);
}

// SplitMix64: the random stream of tokens and weights.
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    float uniform() { return (next() >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f; }  // [-1, 1)
};

static std::vector<llama_token> random_tokens(size_t n, uint64_t seed) {
    Rng rng{seed};
    std::vector<llama_token> t(n);
    for (auto & x : t) x = (llama_token) (rng.next() % 150000);  // ordinary tokens only
    return t;
}

// ---------------------------------------------------------------------------------------
// make-model

// Fills `dst` (a tensor of `type`, `nrows` rows of `n_per_row`) with random values: norm
// weights 1, everything else uniform in [-0.03, 0.03), quantized to `type` on all cores.
static void fill_random(const std::string & name, ggml_type type, int64_t nrows, int64_t n_per_row, uint8_t * dst,
                        uint64_t seed) {
    const bool norm = name.find("norm") != std::string::npos;
    const size_t row_bytes = ggml_row_size(type, n_per_row);
    const int n_threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (int t = 0; t < n_threads; t++) {
        pool.emplace_back([&, t] {
            std::vector<float> row(n_per_row);
            for (int64_t r = t; r < nrows; r += n_threads) {
                Rng rng{seed ^ (uint64_t(r) * 0x2545F4914F6CDD1Dull)};
                for (auto & x : row) x = norm ? 1.0f : 0.03f * rng.uniform();
                uint8_t * out = dst + r * row_bytes;
                if (type == GGML_TYPE_F32) {
                    std::memcpy(out, row.data(), row_bytes);
                } else if (type == GGML_TYPE_F16) {
                    ggml_fp32_to_fp16_row(row.data(), (ggml_fp16_t *) out, n_per_row);
                } else {
                    ggml_quantize_chunk(type, row.data(), out, 0, 1, n_per_row, nullptr);
                }
            }
        });
    }
    for (auto & th : pool) th.join();
}

static void write_padding(FILE * f, size_t bytes, size_t alignment) {
    static const uint8_t zeros[64] = {0};
    size_t pad = (alignment - bytes % alignment) % alignment;
    while (pad > 0) {
        size_t n = std::min(pad, sizeof(zeros));
        std::fwrite(zeros, 1, n, f);
        pad -= n;
    }
}

static int make_model(const char * skeleton_path, const char * block_path, const std::string & prefix,
                      const std::string & types, uint64_t seed) {
    ggml_context * skel_tensors = nullptr;
    gguf_context * skel = gguf_init_from_file(skeleton_path, {/*no_alloc =*/true, &skel_tensors});
    if (!skel) die(std::string("cannot read the skeleton ") + skeleton_path);
    ggml_context * block_tensors = nullptr;
    gguf_context * block = gguf_init_from_file(block_path, {/*no_alloc =*/false, &block_tensors});
    if (!block) die(std::string("cannot read the block ") + block_path);
    const bool all_f32 = types == "f32";

    // The base: the skeleton's metadata, its tensors in their own types (or F32).
    ggml_init_params ip = {/*mem_size =*/ggml_tensor_overhead() * 1024, /*mem_buffer =*/nullptr, /*no_alloc =*/true};
    ggml_context * meta = ggml_init(ip);
    std::vector<ggml_tensor *> tensors;
    for (ggml_tensor * t = ggml_get_first_tensor(skel_tensors); t; t = ggml_get_next_tensor(skel_tensors, t)) {
        ggml_type type = all_f32 ? GGML_TYPE_F32 : t->type;
        ggml_tensor * c = ggml_new_tensor(meta, type, ggml_n_dims(t), t->ne);
        ggml_set_name(c, t->name);
        tensors.push_back(c);
    }
    std::vector<ggml_tensor *> block_list;
    for (ggml_tensor * t = ggml_get_first_tensor(block_tensors); t; t = ggml_get_next_tensor(block_tensors, t)) {
        // The context also holds the whole data blob as one tensor, which is not in the file.
        if (gguf_find_tensor(block, t->name) >= 0) block_list.push_back(t);
    }

    for (int with_block = 0; with_block < 2; with_block++) {
        gguf_context * out = gguf_init_empty();
        if (with_block) {  // block keys first, the base's on top, as crates/engine/src/ahn_block.rs merges
            gguf_set_kv(out, block);
            gguf_remove_key(out, "general.type");
            gguf_remove_key(out, "ahn.base_architecture");
        }
        gguf_set_kv(out, skel);
        if (all_f32) gguf_set_val_u32(out, "general.file_type", 0);  // LLAMA_FTYPE_ALL_F32
        for (ggml_tensor * t : tensors) gguf_add_tensor(out, t);
        if (with_block) {
            for (ggml_tensor * t : block_list) gguf_add_tensor(out, t);
        }
        const std::string path = prefix + (with_block ? ".ahn.gguf" : ".base.gguf");
        FILE * f = std::fopen(path.c_str(), "wb");
        if (!f) die("cannot write " + path);
        std::vector<uint8_t> header(gguf_get_meta_size(out));
        gguf_get_meta_data(out, header.data());
        std::fwrite(header.data(), 1, header.size(), f);
        const size_t alignment = gguf_get_alignment(out);
        std::vector<uint8_t> data;
        for (size_t i = 0; i < tensors.size(); i++) {
            ggml_tensor * t = tensors[i];
            data.resize(ggml_nbytes(t));
            fill_random(t->name, t->type, ggml_nrows(t), t->ne[0], data.data(), seed + i);
            std::fwrite(data.data(), 1, data.size(), f);
            write_padding(f, data.size(), alignment);
        }
        if (with_block) {
            for (ggml_tensor * t : block_list) {
                std::fwrite(t->data, 1, ggml_nbytes(t), f);
                write_padding(f, ggml_nbytes(t), alignment);
            }
        }
        if (std::fclose(f) != 0) die("cannot write " + path);
        gguf_free(out);
        std::fprintf(stderr, "wrote %s\n", path.c_str());
    }
    ggml_free(meta);
    gguf_free(block);
    gguf_free(skel);
    return 0;
}

// ---------------------------------------------------------------------------------------
// Loading and running

struct Loaded {
    llama_model * model = nullptr;
    std::vector<llama_model_kv_override> overrides;
};

static Loaded load(const char * path, int ngl, int window, int sinks) {
    Loaded l;
    if (window > 0) {
        const char * keys[2] = {"qwen2.ahn.window", "qwen2.ahn.sinks"};
        const int values[2] = {window, sinks};
        for (int i = 0; i < 2; i++) {
            llama_model_kv_override o{};
            o.tag = LLAMA_KV_OVERRIDE_TYPE_INT;
            std::snprintf(o.key, sizeof(o.key), "%s", keys[i]);
            o.val_i64 = values[i];
            l.overrides.push_back(o);
        }
        l.overrides.push_back(llama_model_kv_override{});  // key[0] == 0 ends the list
    }
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = ngl;
    if (!l.overrides.empty()) mp.kv_overrides = l.overrides.data();
    l.model = llama_model_load_from_file(path, mp);
    if (!l.model) die(std::string("cannot load ") + path);
    return l;
}

// `f32_cache`: K and V cached in F32 (exactness checks) instead of F16 (the engine's default).
static llama_context * new_context(llama_model * model, uint32_t n_ctx, uint32_t ubatch, int threads,
                                   bool f32_cache = false) {
    llama_context_params cp = llama_context_default_params();
    if (f32_cache) {
        cp.type_k = GGML_TYPE_F32;
        cp.type_v = GGML_TYPE_F32;
    }
    cp.n_ctx = n_ctx;
    cp.n_batch = ubatch;
    cp.n_ubatch = ubatch;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) die("cannot create a context");
    return ctx;
}

// Evaluates tokens[first, last), token i at position i + shift, in ubatches of `ubatch`; rows
// flagged by `want(position)` keep logits, which are handed to `sink(position, logits)`.
template <typename Want, typename Sink>
static void eval(llama_context * ctx, llama_batch & batch, const std::vector<llama_token> & tokens, size_t first,
                 size_t last, size_t shift, int ubatch, Want want, Sink sink) {
    for (size_t b = first; b < last; b += ubatch) {
        const size_t n = std::min<size_t>(ubatch, last - b);
        batch.n_tokens = n;
        for (size_t i = 0; i < n; i++) {
            batch.token[i] = tokens[b + i];
            batch.pos[i] = b + i + shift;
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = 0;
            batch.logits[i] = want(b + i + shift);
        }
        if (llama_decode(ctx, batch) != 0) die("decode failed at position " + std::to_string(b + shift));
        for (size_t i = 0; i < n; i++) {
            if (batch.logits[i]) sink(b + i + shift, llama_get_logits_ith(ctx, i));
        }
    }
}

static std::vector<uint8_t> save_state(llama_context * ctx) {
    std::vector<uint8_t> state(llama_state_seq_get_size(ctx, 0));
    if (llama_state_seq_get_data(ctx, state.data(), state.size(), 0) != state.size()) die("saving the state failed");
    return state;
}

static void restore_state(llama_context * ctx, const std::vector<uint8_t> & state) {
    if (llama_state_seq_set_data(ctx, state.data(), state.size(), 0) != state.size()) die("restoring the state failed");
}

static int check(const char * path, int ngl, int window, int sinks, size_t n_tokens, int ubatch, size_t save_at,
                 const char * out_path) {
    Loaded l = load(path, ngl, window, sinks);
    const int threads = std::max(1u, std::thread::hardware_concurrency());
    const uint32_t n_ctx = window > 0 ? 4096 : n_tokens + 16;
    llama_context * ctx = new_context(l.model, n_ctx, ubatch, threads, true);
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(l.model));
    const auto tokens = random_tokens(n_tokens, 7);
    auto want = [&](size_t p) { return p % 37 == 36 || p + 1 == n_tokens; };
    std::vector<int32_t> positions;
    std::vector<float> rows;
    auto sink = [&](size_t p, const float * logits) {
        positions.push_back(p);
        rows.insert(rows.end(), logits, logits + n_vocab);
    };
    llama_batch batch = llama_batch_init(ubatch, 0, 1);
    const size_t split = save_at > 0 && save_at < n_tokens ? save_at : n_tokens;
    eval(ctx, batch, tokens, 0, split, 0, ubatch, want, sink);
    if (split < n_tokens) {
        const auto state = save_state(ctx);
        llama_free(ctx);
        ctx = new_context(l.model, n_ctx, ubatch, threads, true);
        restore_state(ctx, state);
        eval(ctx, batch, tokens, split, n_tokens, 0, ubatch, want, sink);
    }
    std::ofstream out(out_path, std::ios::binary);
    const int32_t header[2] = {(int32_t) positions.size(), n_vocab};
    out.write((const char *) header, sizeof(header));
    out.write((const char *) positions.data(), positions.size() * sizeof(int32_t));
    out.write((const char *) rows.data(), rows.size() * sizeof(float));
    if (!out) die(std::string("cannot write ") + out_path);
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(l.model);
    return 0;
}

static void read_rows(const char * path, std::vector<int32_t> & positions, std::vector<float> & rows, int & n_vocab) {
    std::ifstream in(path, std::ios::binary);
    int32_t header[2];
    if (!in.read((char *) header, sizeof(header))) die(std::string("cannot read ") + path);
    n_vocab = header[1];
    positions.resize(header[0]);
    rows.resize(size_t(header[0]) * n_vocab);
    in.read((char *) positions.data(), positions.size() * sizeof(int32_t));
    in.read((char *) rows.data(), rows.size() * sizeof(float));
    if (!in) die(std::string("truncated ") + path);
}

static int compare(const char * a_path, const char * b_path) {
    std::vector<int32_t> pa, pb;
    std::vector<float> a, b;
    int va = 0, vb = 0;
    read_rows(a_path, pa, a, va);
    read_rows(b_path, pb, b, vb);
    if (pa != pb || va != vb) die("the two files hold different rows");
    double max_abs = 0, max_diff = 0;
    int agree = 0;
    bool finite = true;
    for (size_t r = 0; r < pa.size(); r++) {
        const float * x = &a[r * va];
        const float * y = &b[r * va];
        for (int i = 0; i < va; i++) {
            finite = finite && std::isfinite(x[i]) && std::isfinite(y[i]);
            max_abs = std::max(max_abs, (double) std::fabs(x[i]));
            max_diff = std::max(max_diff, (double) std::fabs(x[i] - y[i]));
        }
        agree += std::max_element(x, x + va) - x == std::max_element(y, y + va) - y;
    }
    std::printf("{\"rows\": %zu, \"max_abs_logit\": %.6g, \"max_abs_diff\": %.6g, \"argmax_agree\": %d, \"finite\": %s}\n",
                pa.size(), max_abs, max_diff, agree, finite ? "true" : "false");
    return 0;
}

// ---------------------------------------------------------------------------------------
// stream

static size_t device_used_bytes() {
    size_t used = 0;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        if (ggml_backend_dev_type(dev) != GGML_BACKEND_DEVICE_TYPE_GPU) continue;
        size_t free = 0, total = 0;
        ggml_backend_dev_memory(dev, &free, &total);
        used += total - free;
    }
    return used;
}

static std::string device_name(int ngl) {
    if (ngl > 0) {
        for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
            ggml_backend_dev_t dev = ggml_backend_dev_get(i);
            if (ggml_backend_dev_type(dev) == GGML_BACKEND_DEVICE_TYPE_GPU) return ggml_backend_dev_description(dev);
        }
    }
    return "CPU";
}

static long rss_bytes(const char * key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key)) * 1024;
    }
    return 0;
}

static int stream(const char * path, int ngl, int window, int sinks, size_t n_tokens, size_t chunk, double time_limit,
                  int threads) {
    const int ubatch = 512;
    const double t_load = now_s();
    Loaded l = load(path, ngl, window, sinks);
    const uint32_t n_ctx = window > 0 ? 8192 : n_tokens + 256;
    llama_context * ctx = new_context(l.model, n_ctx, ubatch, threads);
    const double load_s = now_s() - t_load;
    const size_t used_before = device_used_bytes();
    const auto tokens = random_tokens(n_tokens + 96 + 64, 11);
    llama_batch batch = llama_batch_init(ubatch, 0, 1);
    const double start = now_s();
    std::string points;
    size_t pos = 0;
    const char * stopped = "null";
    while (pos < n_tokens) {
        const size_t end = std::min(n_tokens, pos + chunk);
        const double t0 = now_s();
        eval(ctx, batch, tokens, pos, end, 0, ubatch, [&](size_t p) { return p + 1 == end; },
             [](size_t, const float *) {});
        const double tok_s = double(end - pos) / (now_s() - t0);
        pos = end;
        char buf[256];
        std::snprintf(buf, sizeof(buf), "%s{\"position\": %zu, \"tokens_per_s\": %.3f, \"device_bytes\": %zu, \"rss_bytes\": %ld}",
                      points.empty() ? "" : ", ", pos, tok_s, device_used_bytes(), rss_bytes("VmRSS:"));
        points += buf;
        std::fprintf(stderr, "  %zu tokens, %.1f tok/s\n", pos, tok_s);
        if (now_s() - start > time_limit && pos < n_tokens) {
            stopped = "\"time limit\"";
            break;
        }
    }
    // The saved state, then decoding on from the end of the stream.
    double t0 = now_s();
    const auto state = save_state(ctx);
    const double save_s = now_s() - t0;
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(l.model));
    t0 = now_s();
    llama_token next = tokens[pos];
    for (size_t i = 0; i < 64; i++) {
        const std::vector<llama_token> one = {next};
        eval(ctx, batch, one, 0, 1, pos + i, ubatch, [](size_t) { return true; },
             [&](size_t, const float * logits) { next = std::max_element(logits, logits + n_vocab) - logits; });
    }
    const double decode_s = now_s() - t0;
    llama_free(ctx);
    // A question after restoring the state into a new context: time to its first token.
    t0 = now_s();
    ctx = new_context(l.model, n_ctx, ubatch, threads);
    restore_state(ctx, state);
    const double restore_s = now_s() - t0;
    // The question follows the stream (the decoded tokens were in the freed context only).
    const std::vector<llama_token> question(tokens.begin() + pos, tokens.begin() + pos + 96);
    llama_token first = -1;
    eval(ctx, batch, question, 0, question.size(), pos, ubatch, [&](size_t p) { return p + 1 == pos + question.size(); },
         [&](size_t, const float * logits) { first = std::max_element(logits, logits + n_vocab) - logits; });
    if (first < 0) die("no logits for the question");
    const double first_token_s = now_s() - t0;
    std::printf("{\"device\": \"%s\", \"ngl\": %d, \"window\": %d, \"sinks\": %d, \"threads\": %d, \"chunk\": %zu, "
                "\"load_s\": %.3f, \"device_bytes_before\": %zu, \"points\": [%s], \"stopped\": %s, "
                "\"peak_rss_bytes\": %ld, \"state_bytes\": %zu, \"save_s\": %.4f, \"decode_tokens_per_s\": %.3f, "
                "\"restore_s\": %.4f, \"question_tokens\": %zu, \"first_token_s\": %.4f}\n",
                device_name(ngl).c_str(), ngl, window, sinks, threads, chunk, load_s, used_before, points.c_str(), stopped,
                rss_bytes("VmHWM:"), state.size(), save_s, 64 / decode_s, restore_s, question.size(), first_token_s);
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(l.model);
    return 0;
}

static int devices() {
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        const char * type = "accel";
        switch (ggml_backend_dev_type(dev)) {
            case GGML_BACKEND_DEVICE_TYPE_CPU: type = "cpu"; break;
            case GGML_BACKEND_DEVICE_TYPE_GPU: type = "gpu"; break;
            case GGML_BACKEND_DEVICE_TYPE_IGPU: type = "igpu"; break;
            default: break;
        }
        std::printf("%s\t%s\t%s\n", type, ggml_backend_dev_name(dev), ggml_backend_dev_description(dev));
    }
    return 0;
}

int main(int argc, char ** argv) {
    if (argc < 2) die("usage: gpu_bench make-model|check|compare|stream|devices ARGS (see the header of gpu_bench.cpp)");
    const std::string cmd = argv[1];
    llama_log_set(quiet_log, nullptr);
    llama_backend_init();
    int rc = 2;
    if (cmd == "make-model" && argc == 7) {
        rc = make_model(argv[2], argv[3], argv[4], argv[5], std::strtoull(argv[6], nullptr, 10));
    } else if (cmd == "check" && argc == 10) {
        rc = check(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]), std::strtoull(argv[6], nullptr, 10),
                   std::atoi(argv[7]), std::strtoull(argv[8], nullptr, 10), argv[9]);
    } else if (cmd == "devices" && argc == 2) {
        rc = devices();
    } else if (cmd == "compare" && argc == 4) {
        rc = compare(argv[2], argv[3]);
    } else if (cmd == "stream" && argc == 10) {
        rc = stream(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]), std::strtoull(argv[6], nullptr, 10),
                    std::strtoull(argv[7], nullptr, 10), std::atof(argv[8]), std::atoi(argv[9]));
    } else {
        die("bad arguments for " + cmd + " (see the header of gpu_bench.cpp)");
    }
    llama_backend_free();
    return rc;
}
