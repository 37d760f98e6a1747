// Stock llama.cpp timing driver for seahorse-bench.
//
// Usage: stock-baseline MODEL TOKENS_FILE N_DECODE N_THREADS REPETITIONS
// TOKENS_FILE holds the prompt's token ids, whitespace separated (written by seahorse-bench,
// so both engines process the same prompt). For each repetition: a fresh context, the
// prompt in batches of 512 (prefill), then N_DECODE greedy tokens one at a time. Prints
// JSON: {"prefill_tokens_per_s": [...], "decode_tokens_per_s": [...]}.
#include "llama.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

static void quiet_log(ggml_log_level, const char *, void *) {}

static double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int main(int argc, char ** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s MODEL TOKENS_FILE N_DECODE N_THREADS REPETITIONS\n", argv[0]);
        return 2;
    }
    const int n_decode = std::atoi(argv[3]);
    const int n_threads = std::atoi(argv[4]);
    const int reps = std::atoi(argv[5]);
    std::vector<llama_token> prompt;
    {
        std::ifstream in(argv[2]);
        llama_token t;
        while (in >> t) prompt.push_back(t);
    }
    if (prompt.empty()) {
        std::fprintf(stderr, "no tokens in %s\n", argv[2]);
        return 2;
    }
    llama_log_set(quiet_log, nullptr);
    llama_backend_init();
    llama_model * model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (!model) {
        std::fprintf(stderr, "cannot load %s\n", argv[1]);
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);
    const int n_batch = 512;

    std::vector<double> pp, tg;
    for (int rep = -1; rep < reps; rep++) {  // rep -1 is a warm-up, not reported
        llama_context_params cp = llama_context_default_params();
        cp.n_ctx = prompt.size() + n_decode + 16;
        cp.n_batch = n_batch;
        cp.n_ubatch = n_batch;
        cp.n_threads = n_threads;
        cp.n_threads_batch = n_threads;
        llama_context * ctx = llama_init_from_model(model, cp);
        if (!ctx) {
            std::fprintf(stderr, "cannot create a context\n");
            return 1;
        }
        auto t0 = std::chrono::steady_clock::now();
        llama_batch batch = llama_batch_init(n_batch, 0, 1);
        for (size_t first = 0; first < prompt.size(); first += n_batch) {
            const size_t n = std::min<size_t>(n_batch, prompt.size() - first);
            batch.n_tokens = n;
            for (size_t i = 0; i < n; i++) {
                batch.token[i] = prompt[first + i];
                batch.pos[i] = first + i;
                batch.n_seq_id[i] = 1;
                batch.seq_id[i][0] = 0;
                batch.logits[i] = first + i + 1 == prompt.size();
            }
            if (llama_decode(ctx, batch) != 0) {
                std::fprintf(stderr, "decode failed\n");
                return 1;
            }
        }
        const double t_pp = seconds_since(t0);
        t0 = std::chrono::steady_clock::now();
        int logits_index = batch.n_tokens - 1;
        llama_pos pos = prompt.size();
        for (int i = 0; i < n_decode; i++) {
            const float * logits = llama_get_logits_ith(ctx, logits_index);
            const llama_token next = std::max_element(logits, logits + n_vocab) - logits;
            batch.n_tokens = 1;
            batch.token[0] = next;
            batch.pos[0] = pos++;
            batch.n_seq_id[0] = 1;
            batch.seq_id[0][0] = 0;
            batch.logits[0] = 1;
            if (llama_decode(ctx, batch) != 0) {
                std::fprintf(stderr, "decode failed\n");
                return 1;
            }
            logits_index = 0;
        }
        const double t_tg = seconds_since(t0);
        llama_batch_free(batch);
        llama_free(ctx);
        if (rep >= 0) {
            pp.push_back(prompt.size() / t_pp);
            tg.push_back(n_decode / t_tg);
        }
    }
    auto print = [](const char * name, const std::vector<double> & v, bool last) {
        std::printf("\"%s\": [", name);
        for (size_t i = 0; i < v.size(); i++) std::printf("%s%.3f", i ? ", " : "", v[i]);
        std::printf("]%s", last ? "" : ", ");
    };
    std::printf("{");
    print("prefill_tokens_per_s", pp, false);
    print("decode_tokens_per_s", tg, true);
    std::printf("}\n");
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
