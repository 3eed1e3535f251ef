// mtmd-dump: golden-output dumper over llama.cpp's libmtmd + libllama (SynFlux reference tooling,
// built by scripts/reference/vlm-goldens.sh against the bundled llama.cpp tree; not part of the engine).
//
// For a language model GGUF + mmproj GGUF + images + a prompt with mtmd_default_marker() ("<__media__>"):
//   1. tokenizes with mtmd_tokenize(add_special = true, parse_special = true) and prints the chunk layout
//      (text chunk token ids + pieces, image chunk n_tokens / nx / ny / n_pos);
//   2. encodes every image chunk (mtmd_encode_chunk + mtmd_get_output_embd) and writes the embeddings,
//      float32 little-endian, [sum of image n_tokens, n_embd] in chunk order, to PREFIX.embd.f32;
//   3. captures llama.cpp's preprocessed image tensor (the graph input "inp_raw", planar [3, ny, nx]
//      float32 after resize + normalize) of every encode through the scheduler's eval callback and
//      writes them, concatenated in encode order, to PREFIX.pixels.f32;
//   4. decodes the chunks (text: llama_decode of the ids; image: mtmd_helper_decode_image_chunk, which
//      switches to non-causal attention where the model needs it, e.g. Gemma 3) and generates N tokens
//      by pure argmax over the raw logits (lowest id wins a tie), flash attention off, F32 K/V cache,
//      one batch of 512 for the whole prompt -- the settings of tests/helpers/llamacpp-ref.ts;
//   5. prints everything as one JSON object on stdout.
// With --embd-override FILE the image chunks are decoded from FILE (float32 [n_image_tokens, n_embd])
// instead of llama.cpp's own encoder output (used for LLaVA, where llama.cpp's CLIP graph deviates from
// the Hugging Face definition and the golden embeddings come from the PyTorch reference).
//
// Usage: mtmd-dump -m LM.gguf --mmproj MMPROJ.gguf --image A.png [--image B.png] -p PROMPT
//                  [-n 16] [-t 2] --out-prefix PREFIX [--embd-override FILE]
#include "llama.h"
#include "ggml.h"
#include "ggml-backend.h"
#include "mtmd.h"
#include "mtmd-helper.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Capture {
    std::vector<std::vector<float>> pixels;  // one entry per encode
    std::vector<std::vector<int64_t>> shapes;  // ggml ne of inp_raw
};

bool eval_cb(struct ggml_tensor * t, bool ask, void * user_data) {
    auto * cap = static_cast<Capture *>(user_data);
    for (int i = 0; i < GGML_MAX_SRC; i++) {
        const ggml_tensor * s = t->src[i];
        if (s && std::strcmp(s->name, "inp_raw") == 0) {
            if (ask) return true;
            std::vector<float> buf(ggml_nelements(s));
            ggml_backend_tensor_get(s, buf.data(), 0, ggml_nbytes(s));
            cap->pixels.push_back(std::move(buf));
            cap->shapes.push_back({s->ne[0], s->ne[1], s->ne[2], s->ne[3]});
            return true;
        }
    }
    return ask ? false : true;
}

void quiet_log(enum ggml_log_level level, const char * text, void *) {
    if (level >= GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t utf8_len(const std::string & s, size_t i) {
    const unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; k++) if ((((unsigned char) s[i + k]) >> 6) != 0x2) return 0;
    return n;
}

// JSON string; bytes that are not valid UTF-8 (a byte-level BPE piece can hold part of a character)
// become U+FFFD, like Python's decode(errors='replace').
std::string json_str(const std::string & s) {
    std::string o = "\"";
    for (size_t i = 0; i < s.size();) {
        const size_t n = utf8_len(s, i);
        if (n == 0) { o += "\xef\xbf\xbd"; i++; continue; }
        if (n > 1) { o += s.substr(i, n); i += n; continue; }
        const unsigned char c = s[i++];
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\r': o += "\\r"; break;
            case '\t': o += "\\t"; break;
            default:
                if (c < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); o += b; }
                else o += (char) c;
        }
    }
    return o + "\"";
}

std::string piece(const llama_vocab * vocab, llama_token t) {
    char buf[512];
    int n = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, true);
    return n < 0 ? std::string() : std::string(buf, n);
}

bool write_f32(const std::string & path, const std::vector<float> & v) {
    FILE * f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    bool ok = std::fwrite(v.data(), sizeof(float), v.size(), f) == v.size();
    return std::fclose(f) == 0 && ok;
}

[[noreturn]] void die(const std::string & msg) {
    std::fprintf(stderr, "mtmd-dump: %s\n", msg.c_str());
    std::exit(1);
}

}  // namespace

int main(int argc, char ** argv) {
    std::string model_path, mmproj_path, prompt, out_prefix, override_path;
    std::vector<std::string> images;
    int n_predict = 16, n_threads = 2;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto next = [&]() -> std::string { if (i + 1 >= argc) die("missing value for " + a); return argv[++i]; };
        if (a == "-m") model_path = next();
        else if (a == "--mmproj") mmproj_path = next();
        else if (a == "--image") images.push_back(next());
        else if (a == "-p") prompt = next();
        else if (a == "-n") n_predict = std::atoi(next().c_str());
        else if (a == "-t") n_threads = std::atoi(next().c_str());
        else if (a == "--out-prefix") out_prefix = next();
        else if (a == "--embd-override") override_path = next();
        else die("unknown argument " + a);
    }
    const std::string prompt_arg = prompt;
    if (model_path.empty() || mmproj_path.empty() || images.empty() || out_prefix.empty()) die("need -m, --mmproj, --image, --out-prefix");

    llama_log_set(quiet_log, nullptr);
    mtmd_log_set(quiet_log, nullptr);
    mtmd_helper_log_set(quiet_log, nullptr);
    llama_backend_init();

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model * model = llama_model_load_from_file(model_path.c_str(), mp);
    if (!model) die("cannot load " + model_path);
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_embd = llama_model_n_embd_inp(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 512;
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = GGML_TYPE_F32;
    cp.type_v = GGML_TYPE_F32;
    cp.no_perf = true;
    llama_context * lctx = llama_init_from_model(model, cp);
    if (!lctx) die("cannot create context");

    Capture cap;
    mtmd_context_params mparams = mtmd_context_params_default();
    mparams.use_gpu = false;
    mparams.print_timings = false;
    mparams.n_threads = n_threads;
    mparams.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    mparams.warmup = false;
    mparams.cb_eval = eval_cb;
    mparams.cb_eval_user_data = &cap;
    mtmd_context * mctx = mtmd_init_from_file(mmproj_path.c_str(), model, mparams);
    if (!mctx) die("cannot load " + mmproj_path);

    std::vector<mtmd_bitmap *> bitmaps;
    for (const auto & p : images) {
        mtmd_helper_bitmap_wrapper bw = mtmd_helper_bitmap_init_from_file(mctx, p.c_str(), false, mtmd_helper_init_opt_default());
        if (!bw.bitmap) die("cannot read image " + p);
        bitmaps.push_back(bw.bitmap);
    }
    std::vector<const mtmd_bitmap *> cbitmaps(bitmaps.begin(), bitmaps.end());

    // like llama-mtmd-cli (tools/mtmd/mtmd-cli.cpp): a prompt without a marker gets one marker per image
    // in front of the text, i.e. the images come first
    if (prompt.find(mtmd_default_marker()) == std::string::npos) {
        for (size_t i = 0; i < images.size(); i++) prompt = mtmd_default_marker() + prompt;
    }
    mtmd_input_text text{prompt.c_str(), prompt.size(), /* add_special */ true, /* parse_special */ true};
    mtmd_input_chunks * chunks = mtmd_input_chunks_init();
    if (mtmd_tokenize(mctx, chunks, &text, cbitmaps.data(), cbitmaps.size()) != 0) die("mtmd_tokenize failed");
    const size_t n_chunks = mtmd_input_chunks_size(chunks);

    // encode every image chunk
    std::vector<float> all_embd;
    std::vector<std::vector<float>> chunk_embd(n_chunks);
    std::vector<size_t> chunk_encodes(n_chunks, 0);
    for (size_t i = 0; i < n_chunks; i++) {
        const mtmd_input_chunk * c = mtmd_input_chunks_get(chunks, i);
        if (mtmd_input_chunk_get_type(c) != MTMD_INPUT_CHUNK_TYPE_IMAGE) continue;
        const size_t before = cap.pixels.size();
        if (mtmd_encode_chunk(mctx, c) != 0) die("mtmd_encode_chunk failed");
        chunk_encodes[i] = cap.pixels.size() - before;
        const size_t nt = mtmd_input_chunk_get_n_tokens(c);
        const float * e = mtmd_get_output_embd(mctx);
        chunk_embd[i].assign(e, e + nt * (size_t) n_embd);
        all_embd.insert(all_embd.end(), chunk_embd[i].begin(), chunk_embd[i].end());
    }
    if (!override_path.empty()) {
        FILE * f = std::fopen(override_path.c_str(), "rb");
        if (!f) die("cannot open " + override_path);
        std::vector<float> ov(all_embd.size());
        size_t got = std::fread(ov.data(), sizeof(float), ov.size(), f);
        if (got != ov.size() || std::fgetc(f) != EOF) die("override file size mismatch");
        std::fclose(f);
        size_t off = 0;
        for (auto & ce : chunk_embd) { std::copy(ov.begin() + off, ov.begin() + off + ce.size(), ce.begin()); off += ce.size(); }
    }

    // decode the prompt
    llama_pos n_past = 0;
    for (size_t i = 0; i < n_chunks; i++) {
        const mtmd_input_chunk * c = mtmd_input_chunks_get(chunks, i);
        const bool last = i + 1 == n_chunks;
        if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            llama_pos np = n_past;
            if (mtmd_helper_eval_chunk_single(mctx, lctx, c, n_past, 0, 512, last, &np) != 0) die("text decode failed");
            n_past = np;
        } else {
            if (last) die("prompt must end with text");
            llama_pos np = n_past;
            if (mtmd_helper_decode_image_chunk(mctx, lctx, c, chunk_embd[i].data(), n_past, 0, 512, &np, nullptr, nullptr) != 0) die("image decode failed");
            n_past = np;
        }
    }
    const llama_pos n_prompt_pos = n_past;

    // greedy
    std::vector<llama_token> gen;
    std::vector<float> margins;
    std::vector<std::pair<int, float>> top0;
    llama_batch batch = llama_batch_init(1, 0, 1);
    for (int step = 0; step < n_predict; step++) {
        const float * lg = llama_get_logits_ith(lctx, -1);
        int best = 0;
        for (int v = 1; v < n_vocab; v++) if (lg[v] > lg[best]) best = v;
        float second = -INFINITY;
        for (int v = 0; v < n_vocab; v++) if (v != best && lg[v] > second) second = lg[v];
        margins.push_back(lg[best] - second);
        if (step == 0) {
            std::vector<int> idx;
            for (int k = 0; k < 5; k++) {
                int b = -1;
                for (int v = 0; v < n_vocab; v++) {
                    bool used = false;
                    for (int u : idx) used |= u == v;
                    if (!used && (b < 0 || lg[v] > lg[b])) b = v;
                }
                idx.push_back(b);
                top0.push_back({b, lg[b]});
            }
        }
        gen.push_back(best);
        if (llama_vocab_is_eog(vocab, best)) break;
        batch.n_tokens = 1;
        batch.token[0] = best;
        batch.pos[0] = n_past++;
        batch.n_seq_id[0] = 1;
        batch.seq_id[0][0] = 0;
        batch.logits[0] = 1;
        if (llama_decode(lctx, batch) != 0) die("llama_decode failed");
    }
    llama_batch_free(batch);

    // files
    if (!write_f32(out_prefix + ".embd.f32", all_embd)) die("cannot write embd");
    std::vector<float> pix;
    for (auto & p : cap.pixels) pix.insert(pix.end(), p.begin(), p.end());
    if (!write_f32(out_prefix + ".pixels.f32", pix)) die("cannot write pixels");

    // JSON
    std::string o = "{\n";
    o += "  \"prompt\": " + json_str(prompt_arg) + ",\n";
    o += "  \"prompt_tokenized\": " + json_str(prompt) + ",\n";
    o += "  \"images\": [";
    for (size_t i = 0; i < images.size(); i++) o += (i ? ", " : "") + json_str(images[i]);
    o += "],\n  \"n_embd\": " + std::to_string(n_embd) + ",\n  \"n_vocab\": " + std::to_string(n_vocab) + ",\n";
    o += "  \"add_bos\": " + std::string(llama_vocab_get_add_bos(vocab) ? "true" : "false") + ",\n";
    o += "  \"chunks\": [\n";
    size_t row = 0, enc = 0;
    for (size_t i = 0; i < n_chunks; i++) {
        const mtmd_input_chunk * c = mtmd_input_chunks_get(chunks, i);
        o += i ? ",\n    {" : "    {";
        if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            size_t n = 0;
            const llama_token * t = mtmd_input_chunk_get_tokens_text(c, &n);
            o += "\"type\": \"text\", \"tokens\": [";
            for (size_t k = 0; k < n; k++) o += (k ? ", " : "") + std::to_string(t[k]);
            o += "], \"pieces\": [";
            for (size_t k = 0; k < n; k++) o += (k ? ", " : "") + json_str(piece(vocab, t[k]));
            o += "]}";
        } else {
            const mtmd_image_tokens * it = mtmd_input_chunk_get_tokens_image(c);
            const size_t nt = mtmd_input_chunk_get_n_tokens(c);
            o += "\"type\": \"image\", \"n_tokens\": " + std::to_string(nt);
            o += ", \"nx\": " + std::to_string(mtmd_image_tokens_get_nx(it));
            o += ", \"ny\": " + std::to_string(mtmd_image_tokens_get_ny(it));
            o += ", \"n_pos\": " + std::to_string(mtmd_input_chunk_get_n_pos(c));
            o += ", \"embd_row\": " + std::to_string(row);
            o += ", \"encodes\": [";
            for (size_t k = 0; k < chunk_encodes[i]; k++) {
                const auto & s = cap.shapes[enc + k];
                o += (k ? ", " : "") + std::string("{\"index\": ") + std::to_string(enc + k) + ", \"shape_chw\": [" +
                     std::to_string(s[2]) + ", " + std::to_string(s[1]) + ", " + std::to_string(s[0]) + "]}";
            }
            o += "]}";
            enc += chunk_encodes[i];
            row += nt;
        }
    }
    o += "\n  ],\n  \"n_prompt_pos\": " + std::to_string(n_prompt_pos) + ",\n";
    o += "  \"n_image_tokens\": " + std::to_string(row) + ",\n";
    o += "  \"embd_override\": " + (override_path.empty() ? std::string("null") : json_str(override_path)) + ",\n";
    o += "  \"greedy\": [";
    for (size_t k = 0; k < gen.size(); k++) o += (k ? ", " : "") + std::to_string(gen[k]);
    o += "],\n  \"greedy_pieces\": [";
    std::string textout;
    for (size_t k = 0; k < gen.size(); k++) { std::string p = piece(vocab, gen[k]); textout += p; o += (k ? ", " : "") + json_str(p); }
    {
        FILE * tf = std::fopen((out_prefix + ".text").c_str(), "wb");  // raw bytes of the greedy text
        if (!tf) die("cannot write text");
        std::fwrite(textout.data(), 1, textout.size(), tf);
        std::fclose(tf);
    }
    o += "],\n  \"greedy_text\": " + json_str(textout) + ",\n  \"margins\": [";
    for (size_t k = 0; k < margins.size(); k++) { char b[32]; std::snprintf(b, sizeof b, "%.6g", margins[k]); o += (k ? ", " : "") + std::string(b); }
    o += "],\n  \"top5_step0\": [";
    for (size_t k = 0; k < top0.size(); k++) { char b[64]; std::snprintf(b, sizeof b, "[%d, %.6g]", top0[k].first, top0[k].second); o += (k ? ", " : "") + std::string(b); }
    o += "]\n}\n";
    std::fputs(o.c_str(), stdout);

    mtmd_input_chunks_free(chunks);
    for (auto * b : bitmaps) mtmd_bitmap_free(b);
    mtmd_free(mctx);
    llama_free(lctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
