// Logic check of the kernels under emu.h against plain references (f64), on the CPU. See run.sh.
#include "emu.h"
#include "kernels_emu.inc"
#include "ls_hopper.cuh"

#include <memory>
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

static std::mt19937_64 rng(42);
static int failures = 0;

static std::vector<float> gauss(size_t n, double std = 1) {
    std::normal_distribution<double> d(0, std);
    std::vector<float> v(n);
    for (auto& x : v) x = (float) d(rng);
    return v;
}
static ls_ptr P(const void* p) { return (ls_ptr) (uintptr_t) p; }
static unsigned short bf16(float x) {
    unsigned u = __float_as_uint(x);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short) (u >> 16);
}
static float widen(unsigned short b) { return __uint_as_float((unsigned) b << 16); }

static void report(const std::string& what, double err, double tol) {
    bool ok = err <= tol;
    if (!ok) failures++;
    std::printf("%-44s max err %.3e (tol %.1e) %s\n", what.c_str(), err, tol, ok ? "PASS" : "FAIL");
}

static double relErr(const std::vector<float>& got, const std::vector<double>& want) {
    double scale = 0, worst = 0;
    for (size_t i = 0; i < want.size(); i++) {
        scale = std::max(scale, std::fabs(want[i]));
        double d = std::fabs(got[i] - want[i]);
        worst = std::isnan(d) ? INFINITY : std::max(worst, d);
    }
    return scale == 0 ? worst : worst / scale;
}

/*
 * The tensor-core primitive against a plain product, its fragments placed by the PTX ISA's element formulas
 * (a_i, b_i, c_i with i the element index: written here independently of emu.h's register-pair form).
 */
struct MmaCheckParams { const unsigned* a; const unsigned* b; float* d; };
static void mmaCheckKernel(const MmaCheckParams p) {
    const unsigned lane = threadIdx.x;
    unsigned a[4] = {p.a[lane * 4], p.a[lane * 4 + 1], p.a[lane * 4 + 2], p.a[lane * 4 + 3]};
    unsigned b[2] = {p.b[lane * 2], p.b[lane * 2 + 1]};
    float c[4] = {0.5f, -0.25f, 1.0f, 2.0f}, d[4];
    ls_mma_bf16_16816(d, a, b, c);
    for (int i = 0; i < 4; i++) p.d[lane * 4 + i] = d[i];
}
static void mmaFragments() {
    std::vector<unsigned short> A(16 * 16), B(16 * 8);
    for (auto& x : A) x = bf16((float) gauss(1)[0]);
    for (auto& x : B) x = bf16((float) gauss(1)[0]);
    std::vector<unsigned> a(32 * 4, 0), b(32 * 2, 0);
    std::vector<float> d(32 * 4);
    for (unsigned lane = 0; lane < 32; lane++) {
        unsigned g = lane >> 2, t = lane % 4;
        for (unsigned i = 0; i < 8; i++) {   // a_i: element i of the lane's 8, two per register, low half first
            unsigned row = (i < 2 || (i >= 4 && i < 6)) ? g : g + 8;
            unsigned col = t * 2 + (i & 1) + (i >= 4 ? 8 : 0);
            a[lane * 4 + i / 2] |= (unsigned) A[row * 16 + col] << (16 * (i & 1));
        }
        for (unsigned i = 0; i < 4; i++) {   // b_i
            unsigned row = t * 2 + (i & 1) + (i >= 2 ? 8 : 0);
            b[lane * 2 + i / 2] |= (unsigned) B[row * 8 + g] << (16 * (i & 1));
        }
    }
    emu_launch(mmaCheckKernel, 1, 1, 32, 0, MmaCheckParams{a.data(), b.data(), d.data()});
    const float c[4] = {0.5f, -0.25f, 1.0f, 2.0f};
    double worst = 0;
    for (unsigned lane = 0; lane < 32; lane++) {
        unsigned g = lane >> 2, t = lane % 4;
        for (unsigned i = 0; i < 4; i++) {   // c_i / d_i
            unsigned row = i < 2 ? g : g + 8, col = t * 2 + (i & 1);
            double want = c[i];
            for (int k = 0; k < 16; k++) want += (double) widen(A[row * 16 + k]) * widen(B[k * 8 + col]);
            worst = std::max(worst, std::fabs(d[lane * 4 + i] - want));
        }
    }
    report("ls_mma_bf16_16816 fragments vs A.B + C", worst, 1e-5);
}

/*
 * ldmatrix x4 (plain and .trans) against the ISA's statement of it: lane 8i + j names row j of matrix i (here
 * rows scattered over a buffer, matrix i's row j at buffer row perm[8i + j]); lane 4g + t receives in register
 * i the elements (g, 2t), (g, 2t+1) of matrix i, or with .trans (2t, g), (2t+1, g), the first in the low half.
 */
struct LdmatrixCheckParams { const unsigned short* buf; const int* perm; unsigned* plain; unsigned* trans; };
static void ldmatrixCheckKernel(const LdmatrixCheckParams p) {
    const unsigned lane = threadIdx.x;
    const unsigned short* row = p.buf + p.perm[lane] * 16 + 8 * (lane & 1);   // rows of 16 values, either half
    unsigned r[4], rt[4];
    ls_ldmatrix_x4(r, row);
    ls_ldmatrix_x4_trans(rt, row);
    for (int i = 0; i < 4; i++) {
        p.plain[lane * 4 + i] = r[i];
        p.trans[lane * 4 + i] = rt[i];
    }
}
static void ldmatrixFragments() {
    alignas(16) static unsigned short buf[32 * 16];
    for (auto& x : buf) x = bf16((float) gauss(1)[0]);
    std::vector<int> perm(32);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<unsigned> plain(32 * 4), trans(32 * 4);
    emu_launch(ldmatrixCheckKernel, 1, 1, 32, 0, LdmatrixCheckParams{buf, perm.data(), plain.data(), trans.data()});
    auto at = [&](unsigned i, unsigned rowInMatrix, unsigned col) {   // element (row, col) of matrix i
        unsigned lane = 8 * i + rowInMatrix;
        return (unsigned) buf[perm[lane] * 16 + 8 * (lane & 1) + col];
    };
    int wrong = 0;
    for (unsigned lane = 0; lane < 32; lane++) {
        unsigned g = lane / 4, t = lane % 4;
        for (unsigned i = 0; i < 4; i++) {
            wrong += plain[lane * 4 + i] != (at(i, g, 2 * t) | at(i, g, 2 * t + 1) << 16);
            wrong += trans[lane * 4 + i] != (at(i, 2 * t, g) | at(i, 2 * t + 1, g) << 16);
        }
    }
    report("ls_ldmatrix_x4 (+ .trans) fragments", wrong, 0);
}

/*
 * wgmma m64n128k16 (ls_hopper.cuh) against the PTX ISA, with the operand layout and the fragment written here from
 * the ISA's statements, independently of emu.h: the no-swizzle K-major canonical layout is a grid of core
 * matrices (8 rows x 16 bytes, 128 contiguous bytes, row r at byte 16 r); the core matrix holding rows
 * 8i .. 8i+7 and columns 8j .. 8j+7 starts SBO * i + LBO * j bytes after the operand's start. The f32
 * accumulator: thread T of the warpgroup (warp T / 32, lane T % 32) holds in register r the element of row
 * 16 (T / 32) + (T % 32) / 4 + 8 ((r % 4) / 2) and column 8 (r / 4) + 2 (T % 4) + r % 2. Start addresses,
 * LBO and SBO are all different from one another and from the dense values, so a field in the wrong place or
 * shifted wrongly reads the wrong elements.
 */
struct WgmmaImage { std::vector<unsigned char> bytes; };
static void wgmmaPlace(WgmmaImage& img, size_t start, unsigned lbo, unsigned sbo, const std::vector<unsigned short>& m,
                       int rows, int cols) {
    for (int i = 0; i < rows / 8; i++)
        for (int j = 0; j < cols / 8; j++) {
            const size_t core = start + (size_t) sbo * i + (size_t) lbo * j;   // core matrix (i, j)
            for (int r = 0; r < 8; r++)
                for (int c = 0; c < 8; c++) {
                    const unsigned short v = m[(size_t) (8 * i + r) * cols + 8 * j + c];
                    if (core + 16 * r + 2 * c + 2 > img.bytes.size()) img.bytes.resize(core + 16 * r + 2 * c + 2, 0xFF);
                    std::memcpy(&img.bytes[core + 16 * r + 2 * c], &v, 2);
                }
        }
}
static void wgmmaFragRowCol(unsigned T, unsigned r, unsigned& row, unsigned& col) {
    row = 16 * (T / 32) + (T % 32) / 4 + 8 * ((r % 4) / 2);
    col = 8 * (r / 4) + 2 * (T % 4) + r % 2;
}
struct WgmmaCheckParams { const unsigned char* image; size_t bytes; unsigned aStart, aLbo, aSbo, bStart, bLbo, bSbo;
                          const float* c; float* d; int scaleD; };
static void wgmmaCheckKernel(const WgmmaCheckParams p) {
    unsigned char* smem = emu_dynamic_smem<unsigned char>();
    if (threadIdx.x == 0) std::memcpy(smem, p.image, p.bytes);
    __syncthreads();
    float d[64];
    for (int r = 0; r < 64; r++) d[r] = p.c[threadIdx.x * 64 + r];
    const unsigned long long da = ls_wgmma_desc(smem + p.aStart, p.aLbo, p.aSbo);
    const unsigned long long db = ls_wgmma_desc(smem + p.bStart, p.bLbo, p.bSbo);
    ls_fence_proxy_async_shared();
    ls_wgmma_fence();
    ls_wgmma_m64n128k16_bf16(d, da, db, p.scaleD);
    ls_wgmma_commit();
    ls_wgmma_wait<0>();
    for (int r = 0; r < 64; r++) p.d[threadIdx.x * 64 + r] = d[r];
}
static void wgmmaFragments() {
    std::vector<unsigned short> A(64 * 16), B(128 * 16);
    for (auto& x : A) x = bf16((float) gauss(1)[0]);
    for (auto& x : B) x = bf16((float) gauss(1)[0]);
    WgmmaCheckParams p{};
    p.aStart = 48; p.aLbo = 128; p.aSbo = 320;      // k-neighbours adjacent, row groups 320 bytes apart
    p.bStart = 4096; p.bLbo = 2080; p.bSbo = 128;   // row groups adjacent, k-neighbours 2080 bytes apart
    WgmmaImage img;
    wgmmaPlace(img, p.aStart, p.aLbo, p.aSbo, A, 64, 16);
    wgmmaPlace(img, p.bStart, p.bLbo, p.bSbo, B, 128, 16);
    p.image = img.bytes.data();
    p.bytes = img.bytes.size();
    std::vector<float> c(128 * 64), d(128 * 64);
    for (unsigned T = 0; T < 128; T++)
        for (unsigned r = 0; r < 64; r++) { unsigned row, col; wgmmaFragRowCol(T, r, row, col); c[T * 64 + r] = 0.25f * row - 0.5f * col; }
    p.c = c.data();
    p.d = d.data();
    for (int scaleD = 0; scaleD < 2; scaleD++) {
        p.scaleD = scaleD;
        emu_launch(wgmmaCheckKernel, 1, 1, 128, img.bytes.size(), p);
        std::vector<double> want(128 * 64);
        for (unsigned T = 0; T < 128; T++)
            for (unsigned r = 0; r < 64; r++) {
                unsigned row, col;
                wgmmaFragRowCol(T, r, row, col);
                double w = scaleD ? 0.25 * row - 0.5 * col : 0.0;
                for (int k = 0; k < 16; k++) w += (double) widen(A[row * 16 + k]) * widen(B[col * 16 + k]);
                want[T * 64 + r] = w;
            }
        report(std::string("wgmma m64n128k16 fragments + layout, scaleD ") + std::to_string(scaleD), relErr(d, want), 1e-6);
    }
}

/*
 * A tiny dense GEMM on the primitive: C[128, 256] = A[128, 64] · B[256, 64]ᵀ (bf16 in, f32 out), grid 2 (n tiles of
 * 128), 256 threads = 2 warpgroups, warpgroup w owning rows 64w .. 64w+63. Each block stages the whole K into
 * shared memory with ordinary stores (A: k-neighbour core matrices adjacent, row groups 1 KiB apart; B: row
 * groups adjacent, k-neighbours 2 KiB apart), then 4 k-steps of 16 in one commit group.
 */
struct WgmmaGemmParams { const unsigned short* a; const unsigned short* b; float* c; };
static void wgmmaGemmKernel(const WgmmaGemmParams p) {
    unsigned char* smem = emu_dynamic_smem<unsigned char>();
    unsigned char* as = smem;               // 128 rows x 64: 16 row groups x 1024
    unsigned char* bs = smem + 16 * 1024;   // 128 rows x 64: 8 k-groups x 2048
    const int n0 = blockIdx.x * 128;
    for (int idx = threadIdx.x; idx < 128 * 8; idx += blockDim.x) {   // one 16-byte row of a core matrix each
        const int row = idx % 128, kc = idx / 128;
        std::memcpy(as + (row / 8) * 1024 + kc * 128 + (row % 8) * 16, p.a + row * 64 + kc * 8, 16);
        std::memcpy(bs + kc * 2048 + (row / 8) * 128 + (row % 8) * 16, p.b + (n0 + row) * 64 + kc * 8, 16);
    }
    ls_fence_proxy_async_shared();
    __syncthreads();
    const int wg = threadIdx.x / 128;
    float d[64];
    ls_wgmma_fence();
    for (int s = 0; s < 4; s++) {
        const unsigned long long da = ls_wgmma_desc(as + wg * 8 * 1024 + s * 2 * 128, 128, 1024);
        const unsigned long long db = ls_wgmma_desc(bs + s * 2 * 2048, 2048, 128);
        ls_wgmma_m64n128k16_bf16(d, da, db, s > 0);
    }
    ls_wgmma_commit();
    ls_wgmma_wait<0>();
    const unsigned T = threadIdx.x % 128;
    for (unsigned r = 0; r < 64; r++) {
        unsigned row, col;
        wgmmaFragRowCol(T, r, row, col);
        p.c[(wg * 64 + row) * 256 + n0 + col] = d[r];
    }
}
static void wgmmaGemm() {
    std::vector<unsigned short> a(128 * 64), b(256 * 64);
    for (auto& x : a) x = bf16((float) gauss(1)[0]);
    for (auto& x : b) x = bf16((float) gauss(1)[0]);
    std::vector<float> c(128 * 256, NAN);
    emu_launch(wgmmaGemmKernel, 2, 1, 256, 32 * 1024, WgmmaGemmParams{a.data(), b.data(), c.data()});
    std::vector<double> want(128 * 256);
    for (int m = 0; m < 128; m++)
        for (int n = 0; n < 256; n++) {
            double acc = 0;
            for (int k = 0; k < 64; k++) acc += (double) widen(a[m * 64 + k]) * widen(b[n * 64 + k]);
            want[m * 256 + n] = acc;
        }
    report("wgmma dense GEMM 128x256x64 vs f64", relErr(c, want), 1e-6);
}

static void splitAndAdd() {
    int rows = 3, cols = 300, stride = 310;
    auto x = gauss(rows * stride);
    std::vector<unsigned short> out(2 * rows * cols);
    LsSplitBf16Params p{P(x.data()), P(out.data()), rows, cols, stride, 0};
    emu_launch(ls_split_bf16, rows, (cols + 255) / 256, 256, 0, p);
    double worst = 0;
    for (int t = 0; t < rows; t++)
        for (int c = 0; c < cols; c++) {
            double v = x[t * stride + c];
            double s = (double) widen(out[t * cols + c]) + widen(out[(rows + t) * cols + c]);
            worst = std::max(worst, std::fabs(s - v) / std::fabs(v));
        }
    report("ls_split_bf16 hi + lo vs x (relative)", worst, std::ldexp(1.0, -16));
    // hiOnly (--matmul-precision medium): the hi rows alone, bit for bit those of the split, nothing past them
    std::vector<unsigned short> hi(rows * cols + 1, 0xBEEF);
    LsSplitBf16Params h{P(x.data()), P(hi.data()), rows, cols, stride, 1};
    emu_launch(ls_split_bf16, rows, (cols + 255) / 256, 256, 0, h);
    long long differ = hi[rows * cols] != 0xBEEF;
    double hiErr = 0;
    for (int i = 0; i < rows * cols; i++) {
        differ += hi[i] != out[i];
        double v = x[i / cols * stride + i % cols];
        hiErr = std::max(hiErr, std::fabs(widen(hi[i]) - v) / std::fabs(v));
    }
    report("ls_split_bf16 hiOnly == the split's hi rows (count)", (double) differ, 0);
    report("ls_split_bf16 hiOnly vs x (relative, bf16 rounding)", hiErr, std::ldexp(1.0, -8)); // 8 significant bits
    std::vector<float> a = gauss(rows * cols), b = gauss(rows * cols), o(rows * cols);
    LsAddParams q{P(a.data()), P(b.data()), P(o.data()), rows, cols, cols, cols, cols, 0};
    emu_launch(ls_add, rows, (cols + 255) / 256, 256, 0, q);
    double e = 0;
    for (int i = 0; i < rows * cols; i++) e = std::max(e, (double) std::fabs(o[i] - (a[i] + b[i])));
    report("ls_add", e, 0);
}

static void rmsnorm() {
    for (int cols : {1, 255, 257, 2048}) {
        int rows = 3;
        auto x = gauss(rows * cols, 2), r = gauss(rows * cols), w = gauss(cols);
        auto h = x;
        std::vector<float> out(rows * cols);
        LsRmsNormParams p{P(h.data()), P(r.data()), P(w.data()), P(out.data()), rows, cols, cols, cols, cols,
                          LS_DTYPE_F32, 1e-6f, 0};
        emu_launch(ls_rmsnorm, rows, 1, 256, 0, p);
        std::vector<double> want(rows * cols), wantH(rows * cols);
        std::vector<float> gotH(h.begin(), h.end());
        for (int t = 0; t < rows; t++) {
            double ss = 0;
            for (int c = 0; c < cols; c++) {
                double v = (float) (x[t * cols + c] + r[t * cols + c]);
                wantH[t * cols + c] = v;
                ss += v * v;
            }
            double inv = 1 / std::sqrt(ss / cols + 1e-6);
            for (int c = 0; c < cols; c++) want[t * cols + c] = wantH[t * cols + c] * inv * w[c];
        }
        report("ls_rmsnorm+residual cols " + std::to_string(cols), relErr(out, want), 1e-5);
        report("ls_rmsnorm residual sum cols " + std::to_string(cols), relErr(gotH, wantH), 0);
    }
}

static void rope() {
    int rows = 4, half = 4, heads = 3, headStride = 12, offset = 4, stride = 40, tableRows = 300;
    std::vector<float> cosT(tableRows * half), sinT(tableRows * half);
    for (int p = 0; p < tableRows; p++)
        for (int i = 0; i < half; i++) {
            float a = p * (float) std::pow(100.0, -i / 4.0);
            cosT[p * half + i] = std::cos(a);
            sinT[p * half + i] = std::sin(a);
        }
    std::vector<int> pos = {0, 299, 7, 100};
    for (int style : {LS_ROPE_INTERLEAVED, LS_ROPE_SPLIT_HALF}) {
        auto x = gauss(rows * stride);
        auto orig = x;
        LsRopeParams p{P(x.data()), P(pos.data()), P(cosT.data()), P(sinT.data()), rows, stride, heads, headStride,
                       offset, half, style, tableRows};
        emu_launch(ls_rope, rows, heads, 64, 0, p);
        std::vector<double> want(orig.begin(), orig.end());
        for (int t = 0; t < rows; t++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < half; i++) {
                    int base = t * stride + h * headStride + offset;
                    int ia = style == LS_ROPE_INTERLEAVED ? base + 2 * i : base + i;
                    int ib = style == LS_ROPE_INTERLEAVED ? ia + 1 : base + i + half;
                    double c = cosT[pos[t] * half + i], s = sinT[pos[t] * half + i];
                    want[ia] = orig[ia] * c - orig[ib] * s;
                    want[ib] = orig[ia] * s + orig[ib] * c;
                }
        report(std::string("ls_rope ") + (style == LS_ROPE_INTERLEAVED ? "interleaved" : "split-half"), relErr(x, want),
               1e-6);
    }
}

/* ls_mla_latent against ls_rmsnorm + ls_rope + ls_copy_rows on the same rows: bit for bit, both rope styles, f32 and
 * bf16 caches, bf16 and f32 norm weights, r not a multiple of the block */
static void mlaLatent() {
    const int rows = 5, r = 300, dr = 16, half = dr / 2, width = r + dr, stride = width + 4, tableRows = 64, slotsN = 9;
    std::vector<float> cosT(tableRows * half), sinT(tableRows * half);
    for (int p = 0; p < tableRows; p++)
        for (int i = 0; i < half; i++) {
            float a = p * (float) std::pow(1000.0, -i / (double) half);
            cosT[p * half + i] = std::cos(a);
            sinT[p * half + i] = std::sin(a);
        }
    std::vector<int> pos = {0, 63, 7, 31, 2}, slots = {8, 0, 3, 5, 1};
    auto w32 = gauss(r);
    std::vector<unsigned short> w16(r);
    for (int i = 0; i < r; i++) w16[i] = bf16(w32[i]);
    int differ = 0;
    for (int style : {LS_ROPE_INTERLEAVED, LS_ROPE_SPLIT_HALF})
        for (int cacheDtype : {LS_DTYPE_F32, LS_DTYPE_BF16})
            for (int weightDtype : {LS_DTYPE_F32, LS_DTYPE_BF16}) {
                const ls_ptr w = weightDtype == LS_DTYPE_F32 ? P(w32.data()) : P(w16.data());
                const size_t cacheBytes = (size_t) slotsN * width * (cacheDtype == LS_DTYPE_F32 ? 4 : 2);
                auto kv = gauss(rows * stride);
                auto kvFused = kv;
                std::vector<unsigned char> cache(cacheBytes, 0xAB), cacheFused(cacheBytes, 0xAB);
                LsRmsNormParams n{P(kv.data()), 0, w, P(kv.data()), rows, r, stride, 0, stride, weightDtype, 1e-6f, 0};
                emu_launch(ls_rmsnorm, rows, 1, 256, 0, n);
                LsRopeParams rp{P(kv.data() + r), P(pos.data()), P(cosT.data()), P(sinT.data()), rows, stride, 1, 0, 0,
                                half, style, tableRows};
                emu_launch(ls_rope, rows, 1, 64, 0, rp);
                LsCopyRowsParams cp{P(kv.data()), 0, P(cache.data()), P(slots.data()), rows, width, stride, width,
                                    LS_DTYPE_F32, cacheDtype};
                emu_launch(ls_copy_rows, rows, (width + 255) / 256, 256, 0, cp);
                LsMlaLatentParams f{P(kvFused.data()), w, P(pos.data()), P(cosT.data()), P(sinT.data()),
                                    P(cacheFused.data()), P(slots.data()), rows, r, dr, stride, weightDtype, style,
                                    tableRows, cacheDtype, 1e-6f, 0};
                emu_launch(ls_mla_latent, rows, 1, 256, 0, f);
                differ += std::memcmp(kv.data(), kvFused.data(), kv.size() * 4) != 0;
                differ += std::memcmp(cache.data(), cacheFused.data(), cacheBytes) != 0;
            }
    report("ls_mla_latent vs ls_rmsnorm + ls_rope + ls_copy_rows, 8 variants (differ)", differ, 0);
}

/** Values rounded to bf16 in place (what a bf16 cache holds), and their bits. */
static std::vector<unsigned short> roundToBf16(std::vector<float>& v) {
    std::vector<unsigned short> bits(v.size());
    for (size_t i = 0; i < v.size(); i++) { bits[i] = bf16(v[i]); v[i] = widen(bits[i]); }
    return bits;
}

/**
 * Attention over a paged cache (GQA-like or absorbed-like) or contiguous two-part keys; with bf16, keys and
 * values are given to the kernel as bf16 (kvDtype) and the reference uses the same rounded values.
 */
static void attention(const std::string& name, int heads, int group, int d1, int d2, int dv, int blockSize, bool paged,
                      bool bf16Kv = false) {
    const int numSeqs = 3;
    int ctx[numSeqs] = {1, 37, 70};
    int kvHeads = heads / group;
    int maxBlocks = (70 + blockSize - 1) / blockSize;
    int slots = numSeqs * maxBlocks * blockSize + blockSize;
    // keys: k1 rows [slots][kvHeads][d1], k2 rows [slots][d2] (shared), values [slots][kvHeads][dv]
    auto k1 = gauss((size_t) slots * kvHeads * d1), k2 = gauss((size_t) slots * std::max(d2, 1)),
         v = gauss((size_t) slots * kvHeads * dv);
    std::vector<unsigned short> k1b, k2b, vb;
    if (bf16Kv) { k1b = roundToBf16(k1); k2b = roundToBf16(k2); vb = roundToBf16(v); }
    std::vector<int> tables(numSeqs * maxBlocks), ctxBase(numSeqs);
    std::vector<int> perm(slots / blockSize);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int i = 0; i < numSeqs * maxBlocks; i++) tables[i] = perm[i];
    for (int s = 0, base = 0; s < numSeqs; s++) { ctxBase[s] = base; base += ctx[s]; }
    auto rowOf = [&](int seq, int p) {
        return paged ? tables[seq * maxBlocks + p / blockSize] * blockSize + p % blockSize : ctxBase[seq] + p;
    };
    // work: the last 2 positions of each sequence (or 1)
    std::vector<int> tokenRows, positions, seqOf;
    for (int s = 0; s < numSeqs; s++)
        for (int p = std::max(0, ctx[s] - 2); p < ctx[s]; p++) {
            tokenRows.push_back((int) tokenRows.size() * 2 + 1); // scattered rows of q / out
            positions.push_back(p);
            seqOf.push_back(s);
        }
    int n = (int) tokenRows.size();
    int qStride = heads * (d1 + d2) + 3, outStride = heads * dv + 5;
    int rowsQ = 2 * n + 2;
    auto q = gauss((size_t) rowsQ * qStride);
    std::vector<float> out((size_t) rowsQ * outStride, 0);
    float scale = 0.3f;
    const void* k1p = bf16Kv ? (const void*) k1b.data() : k1.data();
    const void* k2p = bf16Kv ? (const void*) k2b.data() : k2.data();
    const void* vp = bf16Kv ? (const void*) vb.data() : v.data();
    LsAttentionParams p{P(q.data()), P(k1p), d2 ? P(k2p) : 0, P(vp), P(out.data()),
                        P(tokenRows.data()), P(positions.data()), P(seqOf.data()),
                        paged ? P(tables.data()) : 0, paged ? 0 : P(ctxBase.data()),
                        n, heads, group, d1, d2, dv, qStride, d1 + d2, kvHeads * d1, d1, std::max(d2, 1), 0,
                        kvHeads * dv, dv, outStride, dv, blockSize, maxBlocks, scale,
                        bf16Kv ? LS_DTYPE_BF16 : LS_DTYPE_F32};
    size_t smem = 4 * (d1 + d2 + LS_ATTN_WARPS * (dv + 2));
    emu_launch(ls_attention, n, heads, 32 * LS_ATTN_WARPS, smem, p);
    std::vector<double> want(out.size(), 0);
    std::vector<float> got(out.size());
    for (int w = 0; w < n; w++)
        for (int h = 0; h < heads; h++) {
            int g = h / group;
            const float* qh = &q[(size_t) tokenRows[w] * qStride + h * (d1 + d2)];
            std::vector<double> sc(positions[w] + 1);
            double m = -INFINITY;
            for (int s = 0; s <= positions[w]; s++) {
                int r = rowOf(seqOf[w], s);
                double dot = 0;
                for (int i = 0; i < d1; i++) dot += (double) qh[i] * k1[((size_t) r * kvHeads + g) * d1 + i];
                for (int i = 0; i < d2; i++) dot += (double) qh[d1 + i] * k2[(size_t) r * d2 + i];
                sc[s] = dot * scale;
                m = std::max(m, sc[s]);
            }
            double sum = 0;
            for (auto& x : sc) { x = std::exp(x - m); sum += x; }
            for (int c = 0; c < dv; c++) {
                double o = 0;
                for (int s = 0; s <= positions[w]; s++) o += sc[s] / sum * v[((size_t) rowOf(seqOf[w], s) * kvHeads + g) * dv + c];
                want[(size_t) tokenRows[w] * outStride + h * dv + c] = o;
            }
        }
    report("ls_attention " + name + (bf16Kv ? " (bf16 kv)" : ""), relErr(out, want), 2e-6);
}

static void mlaAbsorbAndApply() {
    int n = 3, H = 2, dn = 8, dr = 4, dv = 6, r = 40;
    int T = 5, qStride = H * (dn + dr) + 1, outStride = H * dv + 2;
    auto q = gauss(T * qStride);
    auto w = gauss(H * (dn + dv) * r);
    std::vector<unsigned short> wb(w.size());
    for (size_t i = 0; i < w.size(); i++) wb[i] = bf16(w[i]);
    std::vector<int> rows = {4, 0, 2};
    std::vector<float> qa(n * H * (r + dr));
    LsMlaAbsorbParams a{P(q.data()), P(wb.data()), P(qa.data()), P(rows.data()), n, H, dn, dr, dv, r, qStride, LS_DTYPE_BF16};
    emu_launch(ls_mla_absorb_q, n, H * ((r + 31) / 32), 256, 0, a);
    std::vector<double> want(qa.size());
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++) {
            const float* qh = &q[rows[i] * qStride + h * (dn + dr)];
            for (int c = 0; c < r; c++) {
                double s = 0;
                for (int j = 0; j < dn; j++) s += (double) widen(wb[(h * (dn + dv) + j) * r + c]) * qh[j];
                want[(i * H + h) * (r + dr) + c] = s;
            }
            for (int k = 0; k < dr; k++) want[(i * H + h) * (r + dr) + r + k] = qh[dn + k];
        }
    report("ls_mla_absorb_q", relErr(qa, want), 1e-6);
    auto o = gauss(n * H * r);
    std::vector<float> out(T * outStride, 0);
    LsMlaApplyUvParams u{P(o.data()), P(wb.data()), P(out.data()), P(rows.data()), n, H, dn, dv, r, outStride, LS_DTYPE_BF16, 0};
    emu_launch(ls_mla_apply_uv, n, H * ((dv + 15) / 16), 256, 0, u);
    std::vector<double> wantOut(out.size(), 0);
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++)
            for (int k = 0; k < dv; k++) {
                double s = 0;
                for (int c = 0; c < r; c++) s += (double) widen(wb[(h * (dn + dv) + dn + k) * r + c]) * o[(i * H + h) * r + c];
                wantOut[rows[i] * outStride + h * dv + k] = s;
            }
    report("ls_mla_apply_uv", relErr(out, wantOut), 1e-6);
}

/**
 * ls_mla_decode + ls_mla_combine against an f64 softmax over the whole context: rows of one sequence each
 * (decode), block tables shuffled, chunks of `chunk` positions (multiple of LS_MLA_TILE or not), so rows of
 * one split (written by the decode kernel) and of several (merged by the combine) both occur.
 */
static void mlaDecode(int H, int r, int dr, int blockSize, const std::vector<int>& ctx, int chunk, bool bf16Cache = false,
                      int widthPad = 4) {
    const int n = (int) ctx.size(), qk = r + dr, width = qk + widthPad; // a cache stride wider than the row
    int maxLen = *std::max_element(ctx.begin(), ctx.end());
    int maxBlocks = (maxLen + blockSize - 1) / blockSize;
    int numBlocks = n * maxBlocks + 2;
    auto cache = gauss((size_t) numBlocks * blockSize * width);
    std::vector<unsigned short> cacheBits;
    if (bf16Cache) cacheBits = roundToBf16(cache);   // the reference below reads the rounded values
    std::vector<int> perm(numBlocks), tables((size_t) n * maxBlocks);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (size_t i = 0; i < tables.size(); i++) tables[i] = perm[i];
    std::vector<int> work, splitBase = {0};
    for (int w = 0; w < n; w++) {
        for (int s = 0; s < ctx[w]; s += chunk) {
            // row w is the only token of sequence n-1-w: rows and sequences need not line up
            work.insert(work.end(), {w, n - 1 - w, s, std::min(ctx[w], s + chunk)});
        }
        splitBase.push_back((int) work.size() / 4);
    }
    for (int pad = 0; pad < 3; pad++) work.insert(work.end(), {-1, -1, 0, 0});   // padding items: blocks exit
    int numWork = (int) work.size() / 4;
    int qStride = H * qk + 3, outStride = H * r + 5;
    auto q = gauss((size_t) n * qStride);
    std::vector<float> out((size_t) n * outStride, 0), pacc((size_t) numWork * H * r), pml((size_t) numWork * H * 2);
    float scale = 0.08f;
    auto rowOf = [&](int seq, int pos) { return (size_t) tables[seq * maxBlocks + pos / blockSize] * blockSize + pos % blockSize; };
    LsMlaDecodeParams p{P(q.data()), bf16Cache ? P(cacheBits.data()) : P(cache.data()), P(tables.data()), P(work.data()),
                        P(splitBase.data()), P(pacc.data()), P(pml.data()), P(out.data()), numWork, H, r, dr, qStride, qk,
                        width, blockSize, maxBlocks, outStride, r, scale, bf16Cache ? LS_DTYPE_BF16 : LS_DTYPE_F32, 0};
    int headBlocks = (H + LS_MLA_DECODE_WARPS * LS_MLA_HEADS_PER_WARP - 1) / (LS_MLA_DECODE_WARPS * LS_MLA_HEADS_PER_WARP);
    int rowBytes = ((bf16Cache ? 2 : 4) * qk + 15) & ~15;   // KernelLimits.mlaDecodeSharedBytes
    emu_launch(ls_mla_decode, numWork, headBlocks, 32 * LS_MLA_DECODE_WARPS, LS_MLA_STAGES * LS_MLA_TILE * rowBytes, p);
    LsMlaCombineParams c{P(pacc.data()), P(pml.data()), P(splitBase.data()), P(out.data()), n, H, r, outStride, r, 0};
    emu_launch(ls_mla_combine, n, H, LS_THREADS, 0, c);
    std::vector<double> want(out.size(), 0);
    for (int w = 0; w < n; w++) {
        int seq = n - 1 - w;
        for (int h = 0; h < H; h++) {
            const float* qh = &q[(size_t) w * qStride + h * qk];
            std::vector<double> sc(ctx[w]);
            double m = -INFINITY, sum = 0;
            for (int s = 0; s < ctx[w]; s++) {
                const float* k = &cache[rowOf(seq, s) * width];
                double dot = 0;
                for (int i = 0; i < qk; i++) dot += (double) qh[i] * k[i];
                sc[s] = dot * scale;
                m = std::max(m, sc[s]);
            }
            for (auto& x : sc) { x = std::exp(x - m); sum += x; }
            for (int s = 0; s < ctx[w]; s++) {
                const float* v = &cache[rowOf(seq, s) * width];
                for (int i = 0; i < r; i++) want[(size_t) w * outStride + h * r + i] += sc[s] / sum * v[i];
            }
        }
    }
    std::string ctxText;
    for (int x : ctx) ctxText += (ctxText.empty() ? "" : ",") + std::to_string(x);
    report(std::string("ls_mla_decode") + (bf16Cache ? " bf16" : "") + " H " + std::to_string(H) + " r " + std::to_string(r)
           + "+" + std::to_string(dr) + " w " + std::to_string(width) + " bs " + std::to_string(blockSize) + " chunk "
           + std::to_string(chunk) + " ctx " + ctxText + " (" + std::to_string(numWork) + " items)",
           relErr(out, want), 2e-6);
}

/**
 * ls_mla_decode_tc + ls_mla_combine over a bf16 latent cache against an f64 softmax over the widened cache values
 * (the same rows the kernel reads): rows of one sequence each, block tables shuffled, chunks that split and that
 * don't, partial last tiles. strideExtra: cache row stride r + dr + strideExtra elements (a multiple of 8 takes
 * the 16-byte cp.async path, anything else the element copies). Then ls_mla_decode_tma over the same inputs
 * (the bulk copies where the stride allows, else its cp.async fallback): the same arithmetic in the same order
 * on the same tiles, so its output must equal ls_mla_decode_tc's bit for bit.
 */
static void mlaDecodeTc(int H, int r, int dr, int blockSize, const std::vector<int>& ctx, int chunk, int strideExtra) {
    const int n = (int) ctx.size(), qk = r + dr, width = qk + strideExtra;
    int maxLen = *std::max_element(ctx.begin(), ctx.end());
    int maxBlocks = (maxLen + blockSize - 1) / blockSize;
    int numBlocks = n * maxBlocks + 2;
    auto values = gauss((size_t) numBlocks * blockSize * width);
    std::vector<unsigned short> cache(values.size());
    for (size_t i = 0; i < values.size(); i++) cache[i] = bf16(values[i]);
    std::vector<int> perm(numBlocks), tables((size_t) n * maxBlocks);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (size_t i = 0; i < tables.size(); i++) tables[i] = perm[i];
    std::vector<int> work, splitBase = {0};
    for (int w = 0; w < n; w++) {
        for (int s = 0; s < ctx[w]; s += chunk) {
            work.insert(work.end(), {w, n - 1 - w, s, std::min(ctx[w], s + chunk)});
        }
        splitBase.push_back((int) work.size() / 4);
    }
    for (int pad = 0; pad < 3; pad++) work.insert(work.end(), {-1, -1, 0, 0});   // padding items: blocks exit
    int numWork = (int) work.size() / 4;
    int qStride = H * qk + 3, outStride = H * r + 5;
    auto q = gauss((size_t) n * qStride);
    std::vector<float> out((size_t) n * outStride, 0), pacc((size_t) numWork * H * r), pml((size_t) numWork * H * 2);
    float scale = 0.08f;
    auto rowOf = [&](int seq, int pos) { return (size_t) tables[seq * maxBlocks + pos / blockSize] * blockSize + pos % blockSize; };
    size_t smem = 4 * LS_MLA_TC_KSPLIT * LS_MLA_TC_HEADS * (LS_MLA_TC_TILE + 8) + 16 * 2 * 32 * (LS_MLA_TC_TILE / 16)
            + 12 * LS_MLA_TC_HEADS + 2 * LS_MLA_TC_STAGES * LS_MLA_TC_TILE * (qk + 8) + 8 * LS_MLA_TC_STAGES;
    auto run = [&](void (*kernel)(const LsMlaDecodeTcParams), std::vector<float>& o) {
        LsMlaDecodeTcParams p{P(q.data()), P(cache.data()), P(tables.data()), P(work.data()), P(splitBase.data()),
                              P(pacc.data()), P(pml.data()), P(o.data()), numWork, H, r, dr, qStride, qk, width,
                              blockSize, maxBlocks, outStride, r, scale};
        emu_launch(kernel, numWork, (H + LS_MLA_TC_HEADS - 1) / LS_MLA_TC_HEADS, 32 * LS_MLA_TC_WARPS, smem, p);
        LsMlaCombineParams c{P(pacc.data()), P(pml.data()), P(splitBase.data()), P(o.data()), n, H, r, outStride, r, 0};
        emu_launch(ls_mla_combine, n, H, LS_THREADS, 0, c);
    };
    run(ls_mla_decode_tc, out);
    std::vector<float> outBulk((size_t) n * outStride, 0);
    std::fill(pacc.begin(), pacc.end(), NAN);   // stale partials from the first run cannot pass for the second's
    std::fill(pml.begin(), pml.end(), NAN);
    run(ls_mla_decode_tma, outBulk);
    std::vector<double> want(out.size(), 0);
    for (int w = 0; w < n; w++) {
        int seq = n - 1 - w;
        for (int h = 0; h < H; h++) {
            const float* qh = &q[(size_t) w * qStride + h * qk];
            std::vector<double> sc(ctx[w]);
            double m = -INFINITY, sum = 0;
            for (int s = 0; s < ctx[w]; s++) {
                const unsigned short* k = &cache[rowOf(seq, s) * width];
                double dot = 0;
                for (int i = 0; i < qk; i++) dot += (double) qh[i] * widen(k[i]);
                sc[s] = dot * scale;
                m = std::max(m, sc[s]);
            }
            for (auto& x : sc) { x = std::exp(x - m); sum += x; }
            for (int s = 0; s < ctx[w]; s++) {
                const unsigned short* v = &cache[rowOf(seq, s) * width];
                for (int i = 0; i < r; i++) want[(size_t) w * outStride + h * r + i] += sc[s] / sum * widen(v[i]);
            }
        }
    }
    // Columns of out no head writes (stride padding) stay 0 on both sides, so a stray write fails the check.
    std::string ctxText;
    for (int x : ctx) ctxText += (ctxText.empty() ? "" : ",") + std::to_string(x);
    const std::string shape = "H " + std::to_string(H) + " r " + std::to_string(r) + "+" + std::to_string(dr) + " bs "
           + std::to_string(blockSize) + " chunk " + std::to_string(chunk) + " ctx " + ctxText + " stride +"
           + std::to_string(strideExtra) + " (" + std::to_string(numWork) + " items)";
    report("ls_mla_decode_tc " + shape, relErr(out, want), 1e-5);
    size_t differ = 0;
    for (size_t i = 0; i < out.size(); i++) differ += __float_as_uint(out[i]) != __float_as_uint(outBulk[i]);
    report(std::string("ls_mla_decode_tma ") + ((width % 8 == 0) ? "bulk" : "fallback") + " vs tc (bits differing) "
           + shape, (double) differ, 0);
}

/*
 * The mbarrier and bulk-copy primitives of ls_hopper.cuh, on two barriers over several phases: barrier 0 takes one
 * arrival announcing 3 copies of 256 bytes (expect_tx larger than any one copy), on odd phases the copies are
 * issued before the arrival; barrier 1 takes two arrivals (a plain one and one with a copy). Every thread probes each phase's parity before it completes (false) and after its wait (true, and false
 * for the other parity: the phase in progress), and checks the copied bytes; a block barrier ends each phase
 * (the buffers are refilled next).
 */
struct MbarCheckParams { const unsigned char* src; int* wrong; int phases; };
static void mbarCheckKernel(const MbarCheckParams p) {
    unsigned char* smem = emu_dynamic_smem<unsigned char>();
    auto* bars = reinterpret_cast<unsigned long long*>(smem);
    unsigned char* buf = smem + 16;   /* 3 x 256 bytes for barrier 0, then 256 for barrier 1 */
    const int t = threadIdx.x;
    int wrong = 0;
    if (t == 0) {
        ls_mbarrier_init(&bars[0], 1);
        ls_mbarrier_init(&bars[1], 2);
        ls_fence_mbarrier_init();
    }
    __syncthreads();
    for (int k = 0; k < p.phases; k++) {
        const unsigned parity = k & 1;
        const unsigned char* src = p.src + 16 * k;   /* different bytes each phase */
        wrong += ls_mbarrier_try_wait_parity(&bars[0], parity) + ls_mbarrier_try_wait_parity(&bars[1], parity);
        __syncthreads();
        const bool copier = t >= 32 && t < 35;
        if (parity == 0) {
            if (t == 0) ls_mbarrier_arrive_expect_tx(&bars[0], 3 * 256);
            if (copier) ls_bulk_copy_g2s(buf + 256 * (t - 32), src + 256 * (t - 32), 256, &bars[0]);
        } else {
            if (copier) ls_bulk_copy_g2s(buf + 256 * (t - 32), src + 256 * (t - 32), 256, &bars[0]);
            __syncthreads();
            wrong += ls_mbarrier_try_wait_parity(&bars[0], parity);   /* the arrival still owed */
            __syncthreads();
            if (t == 0) ls_mbarrier_arrive_expect_tx(&bars[0], 3 * 256);
        }
        if (t == 1) ls_mbarrier_arrive(&bars[1]);
        if (t == 40) {
            ls_mbarrier_arrive_expect_tx(&bars[1], 256);
            ls_bulk_copy_g2s(buf + 768, src + 1024, 256, &bars[1]);
        }
        ls_mbarrier_wait_parity(&bars[0], parity);
        ls_mbarrier_wait_parity(&bars[1], parity);
        wrong += !ls_mbarrier_try_wait_parity(&bars[0], parity) + ls_mbarrier_try_wait_parity(&bars[0], parity ^ 1u);
        wrong += !ls_mbarrier_try_wait_parity(&bars[1], parity) + ls_mbarrier_try_wait_parity(&bars[1], parity ^ 1u);
        for (int i = 0; i < 1024; i++) wrong += buf[i] != src[i < 768 ? i : i + 256];
        __syncthreads();
    }
    p.wrong[t] = wrong;
}

/* Runs fn in a child process and says whether it aborted with `needle` in its stderr (the emulator's clear
 * message for a misuse, rather than a hang or a silent pass). */
static bool abortsWith(void (*fn)(), const char* needle) {
    std::fflush(stdout);
    std::fflush(stderr);
    int fds[2];
    if (pipe(fds) != 0) return false;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        alarm(20);   /* a hang ends as SIGALRM, not SIGABRT */
        fn();
        _exit(0);
    }
    close(fds[1]);
    std::string err;
    char chunk[512];
    for (ssize_t got; (got = read(fds[0], chunk, sizeof chunk)) > 0;) err.append(chunk, (size_t) got);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    const bool ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && err.find(needle) != std::string::npos;
    if (!ok) std::printf("  (child status %d, stderr: %s)\n", status, err.c_str());
    return ok;
}

static void mbarrierPrimitives() {
    const int threads = 64, phases = 5;
    std::vector<unsigned char> src(2048);
    for (auto& b : src) b = (unsigned char) (rng() & 0xFF);
    std::vector<int> wrong(threads, -1);
    emu_launch(mbarCheckKernel, 1, 1, threads, 16 + 1024, MbarCheckParams{src.data(), wrong.data(), phases});
    report("mbarrier + cp.async.bulk, 5 phases (wrong probes/bytes)",
           (double) std::accumulate(wrong.begin(), wrong.end(), 0), 0);
    /* a phase that can never complete: 512 bytes announced, 256 copied */
    static unsigned char data[256] __attribute__((aligned(16)));
    report("mbarrier wait that can never complete aborts", !abortsWith([] {
        emu_launch(+[](const int) {
            auto* bar = emu_dynamic_smem<unsigned long long>();
            if (threadIdx.x == 0) {
                ls_mbarrier_init(bar, 1);
                ls_mbarrier_arrive_expect_tx(bar, 512);
                ls_bulk_copy_g2s(emu_dynamic_smem<unsigned char>() + 16, data, 256, bar);
            }
            __syncthreads();
            ls_mbarrier_wait_parity(bar, 0);
        }, 1, 1, 32, 16 + 256, 0);
    }, "can never complete (current parity 0, 0 of 1 arrivals pending, tx-count 256)"), 0);
    report("mbarrier used before init aborts", !abortsWith([] {
        emu_launch(+[](const int) { ls_mbarrier_wait_parity(emu_dynamic_smem<unsigned long long>(), 0); }, 1, 1, 32, 16, 0);
    }, "never initialised"), 0);
}

/*
 * The emulator's hardware rules beyond plain logic (emu.h), each shown to catch its bug class: a cp.async tile read
 * before its issuer waited (the destination holds 0xFF until then), a misaligned cp.async, wgmma reading cp.async
 * bytes whose writer did not fence.proxy.async, a wgmma with no wgmma.fence after the accumulators were the
 * thread's again, a 128-byte-swizzle operand off its 1024-byte atom, a bulk copy delivering more bytes than the
 * phase's expect_tx, a bulk copy over unfenced cp.async bytes. The legal forms pass (the wgmma one with real data).
 */
alignas(16) static unsigned char strictSrc[32 * 1024];
static void cpAsyncTimingKernel(const int) {
    unsigned char* smem = emu_dynamic_smem<unsigned char>();
    static int seenEarly, seenLate;
    if (threadIdx.x == 0) {
        __pipeline_memcpy_async(smem, strictSrc, 16);
        __pipeline_commit();
    }
    __syncthreads();
    if (threadIdx.x == 1) seenEarly = smem[0];   /* the issuer has not waited: no defined value yet */
    __syncthreads();
    if (threadIdx.x == 0) __pipeline_wait_prior(0);
    __syncthreads();
    if (threadIdx.x == 1) seenLate = smem[0];
    if (threadIdx.x == 1) {
        report("emu: cp.async read before its wait_group sees 0xFF, after it the bytes (wrong)",
               (seenEarly != 0xFF) + (seenLate != strictSrc[0]), 0);
    }
}
/* One warpgroup, A (64 rows) and B (128 rows) as 128-byte swizzle tiles at smem + 1024 (aligned) + shift, filled by
 * cp.async (each thread its rows' 16 chunks), waited; then, per mode, fence.proxy.async or not, wgmma.fence or not. */
enum StrictWgmma { STRICT_OK, STRICT_NO_PROXY_FENCE, STRICT_NO_WGMMA_FENCE, STRICT_MISALIGNED };
static void strictWgmmaKernel(const int mode) {
    unsigned char* base = emu_dynamic_smem<unsigned char>();
    unsigned char* a = base + 1024 + (mode == STRICT_MISALIGNED ? 128 : 0);
    unsigned char* b = a + 64 * 128;
    const int t = threadIdx.x;
    for (int j = 0; j < 8; j++) {
        __pipeline_memcpy_async(a + ls_sw128_chunk(t % 64, j), strictSrc + 16 * (8 * (t % 64) + j), 16);
        __pipeline_memcpy_async(b + ls_sw128_chunk(t, j), strictSrc + 8192 + 16 * (8 * t + j), 16);
    }
    __pipeline_commit();
    __pipeline_wait_prior(0);
    if (mode != STRICT_NO_PROXY_FENCE) ls_fence_proxy_async_shared();
    __syncthreads();
    float d[64];
    for (int i = 0; i < 64; i++) d[i] = 0.0f;
    if (mode != STRICT_NO_WGMMA_FENCE) ls_wgmma_fence();
    for (int k = 0; k < 4; k++) ls_wgmma_m64n128k16_bf16(d, ls_wgmma_desc_sw128(a + 32 * k), ls_wgmma_desc_sw128(b + 32 * k), 1);
    ls_wgmma_commit();
    ls_wgmma_wait<0>();
    if (mode == STRICT_OK) {   /* thread t: row 16 (t / 32) + (t % 32) / 4 (+8), columns 8j + 2 (t % 4) (+1) */
        static double worst;
        if (t == 0) worst = 0;
        const auto* A = reinterpret_cast<const unsigned short*>(strictSrc);
        const auto* B = reinterpret_cast<const unsigned short*>(strictSrc + 8192);
        for (unsigned r = 0; r < 64; r++) {
            unsigned row, col;
            wgmmaFragRowCol(t, r, row, col);
            double want = 0;
            for (int k = 0; k < 64; k++) want += (double) widen(A[row * 64 + k]) * widen(B[col * 64 + k]);
            worst = std::max(worst, std::fabs(d[r] - want) / (1 + std::fabs(want)));
        }
        __syncthreads();
        if (t == 0) report("emu: wgmma m64n128 on swizzled cp.async tiles, fenced (error)", worst, 1e-6);
    }
}
static void emuStrictness() {
    for (size_t i = 0; i < sizeof strictSrc; i += 2) {   /* bf16 values in [-2, 2): products exact in f64 */
        const unsigned short v = bf16((float) ((int) (rng() % 64) - 32) / 16.0f);
        std::memcpy(strictSrc + i, &v, 2);
    }
    emu_launch(cpAsyncTimingKernel, 1, 1, 32, 64, 0);
    report("emu: misaligned cp.async aborts", !abortsWith([] {
        emu_launch(+[](const int) { __pipeline_memcpy_async(emu_dynamic_smem<unsigned char>(), strictSrc + 4, 16); },
                   1, 1, 32, 64, 0);
    }, "aligned to the size"), 0);
    const size_t wgSmem = 2048 + 64 * 128 + 128 * 128;
    emu_launch(strictWgmmaKernel, 1, 1, 128, wgSmem, (int) STRICT_OK);
    report("emu: wgmma on cp.async bytes with no fence.proxy.async aborts", !abortsWith([] {
        emu_launch(strictWgmmaKernel, 1, 1, 128, 2048 + 64 * 128 + 128 * 128, (int) STRICT_NO_PROXY_FENCE);
    }, "without a fence.proxy.async"), 0);
    report("emu: wgmma with no wgmma.fence aborts", !abortsWith([] {
        emu_launch(strictWgmmaKernel, 1, 1, 128, 2048 + 64 * 128 + 128 * 128, (int) STRICT_NO_WGMMA_FENCE);
    }, "no wgmma.fence"), 0);
    report("emu: 128-byte swizzle operand off its 1024-byte atom aborts", !abortsWith([] {
        emu_launch(strictWgmmaKernel, 1, 1, 128, 2048 + 64 * 128 + 128 * 128, (int) STRICT_MISALIGNED);
    }, "not in row 0 of a 1024-byte aligned atom"), 0);
    report("emu: bulk copies past the phase's expect_tx abort", !abortsWith([] {
        emu_launch(+[](const int) {
            auto* bar = emu_dynamic_smem<unsigned long long>();
            unsigned char* buf = emu_dynamic_smem<unsigned char>() + 16;
            if (threadIdx.x == 0) {
                ls_mbarrier_init(bar, 1);
                ls_mbarrier_arrive_expect_tx(bar, 256);   /* 256 bytes announced, 512 copied */
                ls_bulk_copy_g2s(buf, strictSrc, 512, bar);
            }
            __syncthreads();
            ls_mbarrier_wait_parity(bar, 0);
        }, 1, 1, 32, 16 + 512, 0);
    }, "more bytes than its expect_tx announced"), 0);
    report("emu: a bulk copy the phase did not announce stays in flight and aborts", !abortsWith([] {
        emu_launch(+[](const int) {
            auto* bar = emu_dynamic_smem<unsigned long long>();
            unsigned char* buf = emu_dynamic_smem<unsigned char>() + 16;
            if (threadIdx.x == 0) {
                ls_mbarrier_init(bar, 1);
                ls_mbarrier_arrive_expect_tx(bar, 256);   /* one box announced, two copied */
                ls_bulk_copy_g2s(buf, strictSrc, 256, bar);
                ls_bulk_copy_g2s(buf + 256, strictSrc + 256, 256, bar);
            }
            __syncthreads();
            ls_mbarrier_wait_parity(bar, 0);
        }, 1, 1, 32, 16 + 512, 0);
    }, "cp.async.bulk in flight"), 0);
    report("emu: bulk copy over unfenced cp.async bytes aborts", !abortsWith([] {
        emu_launch(+[](const int) {
            auto* bar = emu_dynamic_smem<unsigned long long>();
            unsigned char* buf = emu_dynamic_smem<unsigned char>() + 16;
            if (threadIdx.x == 0) {
                __pipeline_memcpy_async(buf, strictSrc, 16);
                __pipeline_commit();
                __pipeline_wait_prior(0);
                ls_mbarrier_init(bar, 1);
                ls_mbarrier_arrive_expect_tx(bar, 256);
                ls_bulk_copy_g2s(buf, strictSrc, 256, bar);
            }
            __syncthreads();
            ls_mbarrier_wait_parity(bar, 0);
        }, 1, 1, 32, 16 + 256, 0);
    }, "without a fence.proxy.async"), 0);
}

/**
 * ls_mla_prefill_tc against an f64 causal softmax: sequences given as {cached prefix, new tokens} (chunked prefill
 * starts past position 0), their keys one after another (ctxBase) as CudaAttention lays them out, K and V split
 * into bf16 hi + lo on the host as ls_split_bf16 does, work items of up to 64 queries in shuffled order. terms 3
 * against the exact f32 operands; terms 1 against the bf16-rounded ones (q, k, v hi only; P's rounding to bf16 is
 * the kernel's own, ~2^-9 of a weight, so the tolerance is 4e-3). strideExtra pads the kv and rope row strides
 * (not a multiple of 8: the element copies instead of cp.async).
 */
static void mlaPrefillTc(int H, int dn, int dr, int dv, const std::vector<std::pair<int, int>>& seqs, int terms,
                         int strideExtra) {
    const int qk = dn + dr, kvStride = H * (dn + dv) + strideExtra, ropeStride = dr + strideExtra;
    std::vector<int> ctxBase, firstRow;
    int keys = 0, rows = 0;
    for (auto [prefix, fresh] : seqs) {
        ctxBase.push_back(keys);
        firstRow.push_back(rows);
        keys += prefix + fresh;
        rows += fresh;
    }
    auto kv = gauss((size_t) keys * kvStride), rope = gauss((size_t) keys * std::max(ropeStride, 1));
    auto split = [](const std::vector<float>& x, std::vector<unsigned short>& hi, std::vector<unsigned short>& lo) {
        hi.resize(x.size());
        lo.resize(x.size());
        for (size_t i = 0; i < x.size(); i++) {
            hi[i] = bf16(x[i]);
            lo[i] = bf16(x[i] - widen(hi[i]));
        }
    };
    std::vector<unsigned short> kvHi, kvLo, ropeHi, ropeLo;
    split(kv, kvHi, kvLo);
    split(rope, ropeHi, ropeLo);
    const int qStride = H * qk + 3, outStride = H * dv + 5;
    auto q = gauss((size_t) rows * qStride);
    std::vector<int> positions(rows), work;
    for (size_t i = 0; i < seqs.size(); i++) {
        for (int j = 0; j < seqs[i].second; j++) positions[firstRow[i] + j] = seqs[i].first + j;
        for (int j = 0; j < seqs[i].second; j += LS_MLA_PF_QUERIES) {
            int n = std::min(LS_MLA_PF_QUERIES, seqs[i].second - j);
            work.insert(work.end(), {firstRow[i] + j, n, ctxBase[i], seqs[i].first + j + n});
        }
    }
    const int numWork = (int) work.size() / 4;
    for (int i = numWork - 1; i > 0; i--) {   // any order: items are independent
        int k = (int) (rng() % (unsigned) (i + 1));
        for (int f = 0; f < 4; f++) std::swap(work[4 * i + f], work[4 * k + f]);
    }
    std::vector<float> out((size_t) rows * outStride, 0);
    const float scale = 0.0721f;
    const bool both = terms == 3;
    LsMlaPrefillTcParams p{P(q.data()), P(kvHi.data()), both ? P(kvLo.data()) : 0, P(ropeHi.data()),
                           both ? P(ropeLo.data()) : 0, P(positions.data()), P(work.data()), P(out.data()), numWork, H,
                           dn, dr, dv, qStride, qk, kvStride, dn + dv, ropeStride, outStride, dv, terms, scale};
    size_t smem = 2 * LS_MLA_PF_STAGES * (both ? 2 : 1) * LS_MLA_PF_KEYS * (qk + 8 + dv + 8)
            + (both ? 2 * LS_MLA_PF_QUERIES * (qk + 8) : 0);
    emu_launch(ls_mla_prefill_tc, H, numWork, 32 * LS_MLA_PF_WARPS, smem, p);
    auto val = [&](const std::vector<float>& x, const std::vector<unsigned short>& hi, size_t i) {
        return both ? (double) x[i] : (double) widen(hi[i]);
    };
    std::vector<double> want(out.size(), 0);
    for (size_t i = 0; i < seqs.size(); i++) {
        for (int j = 0; j < seqs[i].second; j++) {
            const int w = firstRow[i] + j, pos = positions[w];
            for (int h = 0; h < H; h++) {
                const float* qh = &q[(size_t) w * qStride + h * qk];
                std::vector<double> sc(pos + 1);
                double m = -INFINITY, sum = 0;
                for (int s = 0; s <= pos; s++) {
                    const size_t row = (size_t) ctxBase[i] + s;
                    double dot = 0;
                    for (int d = 0; d < qk; d++) {
                        double qd = both ? (double) qh[d] : (double) widen(bf16(qh[d]));
                        double kd = d < dn ? val(kv, kvHi, row * kvStride + h * (dn + dv) + d)
                                           : val(rope, ropeHi, row * ropeStride + d - dn);
                        dot += qd * kd;
                    }
                    sc[s] = dot * scale;
                    m = std::max(m, sc[s]);
                }
                for (auto& x : sc) { x = std::exp(x - m); sum += x; }
                for (int s = 0; s <= pos; s++) {
                    const size_t row = (size_t) ctxBase[i] + s;
                    for (int d = 0; d < dv; d++) {
                        want[(size_t) w * outStride + h * dv + d] += sc[s] / sum * val(kv, kvHi, row * kvStride + h * (dn + dv) + dn + d);
                    }
                }
            }
        }
    }
    // Columns no head writes (stride padding) stay 0 on both sides, so a stray write fails the check.
    std::string text;
    for (auto [prefix, fresh] : seqs) text += (text.empty() ? "" : ",") + std::to_string(prefix) + "+" + std::to_string(fresh);
    report("ls_mla_prefill_tc H " + std::to_string(H) + " " + std::to_string(dn) + "+" + std::to_string(dr) + "/"
           + std::to_string(dv) + " terms " + std::to_string(terms) + " seqs " + text + " stride +"
           + std::to_string(strideExtra) + " (" + std::to_string(numWork) + " items)",
           relErr(out, want), both ? 1e-5 : 4e-3);
}

/** The CPU backend's routing (MoeCpu), in C++. */
static void routeReference(const float* logits, int E, int K, bool grouped, int G, int keepG, bool norm, float scaling,
                           int* experts, float* weights) {
    std::vector<float> s(logits, logits + E);
    float max = -INFINITY;
    for (float x : s) max = std::max(max, x);
    double sum = 0;
    for (auto& x : s) { x = (float) std::exp((double) (x - max)); sum += x; }
    float inv = (float) (1.0 / sum);
    for (auto& x : s) x *= inv;
    std::vector<float> cand = s;
    if (grouped) {
        int per = E / G;
        std::vector<float> gm(G, -INFINITY);
        for (int g = 0; g < G; g++) for (int e = g * per; e < (g + 1) * per; e++) gm[g] = std::max(gm[g], s[e]);
        std::vector<bool> keep(G);
        for (int k = 0; k < keepG; k++) {
            int best = -1;
            for (int g = 0; g < G; g++) if (!keep[g] && (best < 0 || gm[g] > gm[best])) best = g;
            keep[best] = true;
        }
        for (int g = 0; g < G; g++) if (!keep[g]) for (int e = g * per; e < (g + 1) * per; e++) cand[e] = -INFINITY;
    }
    std::vector<bool> taken(E);
    float total = 0;
    for (int k = 0; k < K; k++) {
        int best = -1;
        for (int e = 0; e < E; e++) if (!taken[e] && (best < 0 || cand[e] > cand[best])) best = e;
        taken[best] = true;
        experts[k] = best;
        weights[k] = s[best];
        total += s[best];
    }
    for (int k = 0; k < K; k++) weights[k] = norm && K > 1 ? (float) (weights[k] / (total + 1e-20)) : weights[k] * scaling;
}

static void route(int T, int E, int K, bool grouped, int G, int keepG, bool norm, float scaling) {
    auto logits = gauss(T * E, 3);
    // ties on purpose in a few rows
    for (int e = 0; e < E; e += 2) logits[e] = logits[e + 1 < E ? e + 1 : e];
    std::vector<int> ex(T * K);
    std::vector<float> w(T * K);
    LsMoeRouteParams p{P(logits.data()), P(ex.data()), P(w.data()), T, E, E, K, grouped, grouped ? G : 1, keepG, norm,
                       scaling, 0};
    size_t smem = ((4 * E + 4 * (grouped ? G : 1) + E + (grouped ? G : 1)) + 15) & ~15;
    emu_launch(ls_moe_route, T, 1, 256, smem, p);
    int mismatch = 0;
    double werr = 0;
    for (int t = 0; t < T; t++) {
        std::vector<int> re(K);
        std::vector<float> rw(K);
        routeReference(&logits[t * E], E, K, grouped, G, keepG, norm, scaling, re.data(), rw.data());
        for (int k = 0; k < K; k++) {
            if (re[k] != ex[t * K + k]) mismatch++;
            werr = std::max(werr, (double) std::fabs(rw[k] - w[t * K + k]));
        }
    }
    std::string name = "ls_moe_route E " + std::to_string(E) + " top-" + std::to_string(K) + (grouped ? " grouped" : "");
    report(name + " experts (mismatches)", mismatch, 0);
    report(name + " weights", werr, 0);
}

/** SamplingReference (native GPU tests), in C++. */
static int sampleReference(const std::vector<float>& l, double temp, int topK, double topP, double u) {
    int V = (int) l.size();
    std::vector<int> finite;
    for (int i = 0; i < V; i++) if (std::isnan(l[i]) || l[i] == INFINITY) return -2; // broken: the kernel reports -2
    for (int i = 0; i < V; i++) if (l[i] > -INFINITY) finite.push_back(i);
    auto rank = [&](int a, int b) { return l[a] != l[b] ? l[a] > l[b] : a < b; };
    if (finite.empty()) return -1; // every logit -inf: the kernel reports -1
    if (temp < 1e-5) return *std::min_element(finite.begin(), finite.end(), rank);
    double inv = 1 / temp, max = -INFINITY;
    for (int i : finite) max = std::max(max, l[i] * inv);
    std::vector<double> w(V, 0);
    for (int i : finite) w[i] = std::exp(l[i] * inv - max);
    std::vector<int> cand = finite;
    bool ordered = false;
    if (topK > 0 && topK < (int) finite.size()) {
        std::sort(cand.begin(), cand.end(), rank);
        cand.resize(topK);
        ordered = true;
    }
    if (topP < 1) {
        if (!ordered) std::sort(cand.begin(), cand.end(), rank);
        double mass = 0;
        for (int i : cand) mass += w[i];
        double cum = 0;
        size_t m = 0;
        while (m < cand.size() && cum < topP * mass) cum += w[cand[m++]];
        cand.resize(m);
    }
    double total = 0;
    for (int i : cand) total += w[i];
    double x = u * total;
    int last = cand[0];
    for (int i : cand)
        if (w[i] > 0) { last = i; x -= w[i]; if (x < 0) return i; }
    return last;
}

/*
 * ls_sample over rows of V logits with per-row parameters, the list sized for `perThread` entries per thread
 * (0: no list, every pass reads the row: the search the kernel used before the list existed).
 */
static std::vector<int> runSample(const std::vector<float>& l, int V, const std::vector<double>& invT,
                                  const std::vector<int>& tk, const std::vector<double>& tp,
                                  const std::vector<double>& us, int perThread) {
    const int rows = (int) invT.size();
    std::vector<int> tokens(rows, -7);
    LsSampleParams p{P(l.data()), P(invT.data()), P(tk.data()), P(tp.data()), P(us.data()), P(tokens.data()), rows, V, V,
                     perThread};
    emu_launch(ls_sample, rows, 1, LS_SAMPLE_THREADS, (size_t) 16 * LS_SAMPLE_THREADS * perThread, p);
    return tokens;
}

/* The list sizes every sampling check runs with: none, one entry per thread (many tokens left out), the server's. */
static const int SAMPLE_LISTS[] = {LS_SAMPLE_LIST_PER_THREAD, 1, 0};

/*
 * Compares each row's token with the f64 reference (where given: want[r] >= -2) and across the list sizes: the
 * list must not change a single draw (the sums are the same bits with or without it).
 */
static void checkSampled(const std::string& name, const std::vector<float>& l, int V, const std::vector<double>& invT,
                         const std::vector<int>& tk, const std::vector<double>& tp, const std::vector<double>& us,
                         const std::vector<int>& want) {
    int mismatch = 0;
    int differ = 0;
    std::vector<int> first;
    for (int perThread : SAMPLE_LISTS) {
        std::vector<int> tokens = runSample(l, V, invT, tk, tp, us, perThread);
        for (size_t r = 0; r < tokens.size(); r++) {
            if (want[r] >= -2 && want[r] != tokens[r]) {
                mismatch++;
                std::printf("  %s row %zu, list %d: kernel %d, reference %d\n", name.c_str(), r, perThread, tokens[r],
                            want[r]);
            }
            if (!first.empty() && first[r] != tokens[r]) {
                differ++;
                std::printf("  %s row %zu: list %d draws %d, list %d draws %d\n", name.c_str(), r, SAMPLE_LISTS[0],
                            first[r], perThread, tokens[r]);
            }
        }
        if (first.empty()) first = tokens;
    }
    report(name + " (mismatches)", mismatch, 0);
    report(name + " list sizes 6/1/0 (differ)", differ, 0);
}

static void sample(int rows, int V, double temp, int topK, double topP, bool ties) {
    auto l = gauss(rows * V, 4);
    if (ties) for (auto& x : l) x = std::round(x);
    for (int i = 0; i < rows * V; i += 5) l[i] = -INFINITY;
    std::vector<double> invT(rows, temp < 1e-5 ? 0 : 1 / temp), tp(rows, topP), us(rows);
    std::vector<int> tk(rows, topK), want(rows);
    std::uniform_real_distribution<double> ud(0, 1);
    for (auto& u : us) u = ud(rng);
    for (int r = 0; r < rows; r++) {
        std::vector<float> row(l.begin() + r * V, l.begin() + (r + 1) * V);
        want[r] = sampleReference(row, temp, topK, topP, us[r]);
    }
    checkSampled("ls_sample V " + std::to_string(V) + " T " + std::to_string(temp) + " k " + std::to_string(topK)
                 + " p " + std::to_string(topP) + (ties ? " ties" : ""), l, V, invT, tk, tp, us, want);
}

/*
 * Rows that take each way through the candidate list (V 3000: more valid tokens than the 1024 the list holds):
 * a peaked row whose nucleus fits it, a flat row whose nucleus does not (top-p's search and the draw read the row
 * below the list's floor), top-k inside and beyond the list, top-k then top-p, heavy ties and -inf runs, the
 * uniform at 0 and just below 1; each row with every list size, against the previous search (list 0) and the f64
 * reference.
 */
static void sampleListPaths() {
    const int V = 3000;
    const double below1 = std::nextafter(1.0, 0.0);
    struct Case { double spread; bool ties; double temp; int topK; double topP; double u; };
    std::vector<Case> cases = {
        {4, false, 0.7, 0, 0.95, 0.3}, {4, false, 0.7, 0, 0.95, below1}, {4, false, 0.7, 0, 0.95, 0},
        {0.05, false, 1, 0, 0.99, 0.6}, {0.05, false, 1, 0, 0.5, 0.999}, {4, true, 0.7, 50, 1, 0.42},
        {4, true, 1, 1500, 1, 0.77}, {0.05, false, 1, 1500, 0.9, 0.2}, {4, false, 0.7, 50, 0.95, 0.9},
        {1, true, 2, 1024, 0.8, 0.5}, {1, true, 2, 1025, 0.8, 0.5}, {0.5, true, 1, 0, 0.97, 0.11},
        {4, false, 1.3, 0, 1, 0.5}, {4, false, 0.7, 2999, 0.999, 0.01},
    };
    const int rows = (int) cases.size();
    std::vector<float> l;
    std::vector<double> invT, tp, us;
    std::vector<int> tk, want;
    for (int r = 0; r < rows; r++) {
        const Case& c = cases[r];
        auto row = gauss(V, c.spread);
        if (c.ties) for (auto& x : row) x = std::round(x);
        for (int i = r; i < V; i += 7 + r) row[i] = -INFINITY;   /* banned tokens, a different run per row */
        l.insert(l.end(), row.begin(), row.end());
        invT.push_back(1 / c.temp);
        tk.push_back(c.topK);
        tp.push_back(c.topP);
        us.push_back(c.u);
        want.push_back(sampleReference(row, c.temp, c.topK, c.topP, c.u));
    }
    checkSampled("ls_sample through the candidate list V 3000", l, V, invT, tk, tp, us, want);
}

/**
 * Rows where every sum is exact (equal logits weigh 1 each), so the boundaries are hit on purpose: a top-p
 * target reached exactly, top-k cutting through a tie, the uniform 0 and the largest double below 1; and
 * rows the host refuses (NaN, +inf, all -inf).
 */
static void sampleEdges() {
    const int V = 8;
    struct Case { std::vector<float> l; double temp; int topK; double topP; double u; };
    const float inf = INFINITY, nan = std::nanf("");
    const double below1 = std::nextafter(1.0, 0.0);
    std::vector<float> flat(V, 0.5f), half = {2, 2, 2, 2, -inf, 1, 1, -inf};
    std::vector<Case> cases = {
        {flat, 1, 0, 0.5, 0}, {flat, 1, 0, 0.5, 0.5}, {flat, 1, 0, 0.5, below1}, {flat, 1, 0, 0.5, 0.25},
        {flat, 0.5, 0, 1, below1}, {flat, 1, 0, 1, 0.375}, {flat, 1, 3, 1, below1}, {flat, 1, 2, 0.5, 0.5},
        {half, 0, 0, 1, 0}, {half, 1, 2, 1, 0.5}, {half, 1, 3, 0.5, below1}, {half, 2, 0, 0.75, 0.999},
        {half, 1, 1, 1, 0.9}, {{1, nan, 0, 0, 0, 0, 0, 0}, 1, 0, 1, 0.5}, {{1, 0, 0, 0, 0, 0, inf, 0}, 0, 0, 1, 0},
        {std::vector<float>(V, -inf), 1, 0, 1, 0.5}, {std::vector<float>(V, -inf), 0, 0, 1, 0},
    };
    const int rows = (int) cases.size();
    std::vector<float> l;
    std::vector<double> invT, tp, us;
    std::vector<int> tk;
    for (const Case& c : cases) {
        l.insert(l.end(), c.l.begin(), c.l.end());
        invT.push_back(c.temp < 1e-5 ? 0 : 1 / c.temp);
        tk.push_back(c.topK);
        tp.push_back(c.topP);
        us.push_back(c.u);
    }
    std::vector<int> want;
    for (const Case& c : cases) want.push_back(sampleReference(c.l, c.temp, c.topK, c.topP, c.u));
    checkSampled("ls_sample edge cases (exact sums, broken rows)", l, V, invT, tk, tp, us, want);
}

/* LogitEdits.edited (model module), transcribed: each stage in f64 from the f32 value, rounded to f32. */
struct LogitEditRow {
    std::vector<int> tokens;
    std::vector<float> bias;
    std::vector<int> generated, seen;
    double repetition = 1, presence = 0, frequency = 0;
};
static float editedReference(float logit, const LogitEditRow& row, size_t i) {
    float v = logit;
    if (row.bias[i] != 0) v = row.bias[i] <= -100.0f ? -INFINITY : (float) ((double) v + row.bias[i]);
    if (row.repetition != 1 && row.seen[i]) v = (float) (v > 0 ? v / row.repetition : v * row.repetition);
    if (row.generated[i] > 0 && (row.presence != 0 || row.frequency != 0))
        v = (float) (v - (row.frequency * row.generated[i] + row.presence));
    return v;
}

/*
 * ls_logit_edits against the transcription, bit for bit, over every logit of every row (the others must not
 * move): bans (-100 and below) and biases just above, positive, negative and zero logits under repetition
 * penalties above and below 1, counts above 1 under presence and frequency, entries with no stage to apply,
 * rows with no entries, more entries than threads, a strided row, NaN / +inf logits left for ls_sample to
 * refuse; pending tokens of the previous pass (LogitEdits.resolved): one among a row's entries, one new to a row
 * with entries, one to a row without any, and a broken row's -2 that adds nothing. Also counts the edits a plain
 * f32 evaluation would get wrong, to show the check can tell.
 */
static void logitEdits() {
    const int V = 3000, stride = V + 5;
    std::vector<LogitEditRow> rows(7);
    std::uniform_int_distribution<int> count(0, 4);
    std::uniform_real_distribution<double> ud(0, 1);
    const double reps[] = {1.3, 0.7, 1, 1.1, 2.5, 1, 1.05};
    const double presences[] = {0.4, -0.25, 0, 0, 1.5, 0.6, 0.1};
    const double frequencies[] = {0.3, 0.7, 0, 0, -0.45, 0, 0.9};
    const int entries[] = {900, 300, 0, 40, 250, 0, 600};
    for (int r = 0; r < (int) rows.size(); r++) {
        LogitEditRow& row = rows[r];
        row.repetition = reps[r];
        row.presence = presences[r];
        row.frequency = frequencies[r];
        std::vector<int> ids(V);
        std::iota(ids.begin(), ids.end(), 0);
        std::shuffle(ids.begin(), ids.end(), rng);
        for (int e = 0; e < entries[r]; e++) {
            row.tokens.push_back(ids[e]);
            const double b = ud(rng);
            row.bias.push_back(b < 0.4 ? 0.0f : b < 0.45 ? -100.0f : b < 0.5 ? -250.0f : b < 0.55 ? -99.99f
                               : (float) (40 * (ud(rng) - 0.5)));
            const int g = e % 3 == 0 ? 0 : count(rng);
            row.generated.push_back(g);
            row.seen.push_back(g > 0 || e % 2 == 0 ? 1 : 0);
        }
    }
    auto l = gauss((size_t) rows.size() * stride, 4);
    l[3 * stride + rows[3].tokens[0]] = 0.0f;                     /* a zero logit under the repetition penalty */
    l[3 * stride + rows[3].tokens[1]] = -INFINITY;                /* banned already */
    l[6 * stride + rows[6].tokens[0]] = std::nanf("");            /* broken rows stay broken */
    l[6 * stride + rows[6].tokens[1]] = INFINITY;
    rows[6].bias[1] = -100.0f;                                    /* even under a ban */
    std::vector<int> entryStart = {0}, tokens, generated, seen;
    std::vector<float> bias;
    std::vector<double> repetition, presence, frequency;
    for (const LogitEditRow& row : rows) {
        tokens.insert(tokens.end(), row.tokens.begin(), row.tokens.end());
        bias.insert(bias.end(), row.bias.begin(), row.bias.end());
        generated.insert(generated.end(), row.generated.begin(), row.generated.end());
        seen.insert(seen.end(), row.seen.begin(), row.seen.end());
        entryStart.push_back((int) tokens.size());
        repetition.push_back(row.repetition);
        presence.push_back(row.presence);
        frequency.push_back(row.frequency);
    }
    /* pending tokens: previousTokens[pendingRow[r]]; the reference resolves them into its rows */
    int newToRow4 = 0;   /* a token row 4 has no entry for */
    while (std::find(rows[4].tokens.begin(), rows[4].tokens.end(), newToRow4) != rows[4].tokens.end()) newToRow4++;
    const std::vector<int> previousTokens = {rows[0].tokens[5], -2, newToRow4, 17};
    const std::vector<int> pendingRow = {0, 1, -1, -1, 2, 3, -1};
    std::vector<LogitEditRow> resolved = rows;
    for (size_t r = 0; r < rows.size(); r++) {
        const int t = pendingRow[r] < 0 ? -1 : previousTokens[pendingRow[r]];
        if (t < 0) continue;
        LogitEditRow& row = resolved[r];
        const auto at = std::find(row.tokens.begin(), row.tokens.end(), t);
        if (at == row.tokens.end()) {
            row.tokens.push_back(t);
            row.bias.push_back(0.0f);
            row.generated.push_back(1);
            row.seen.push_back(1);
        } else {
            row.generated[at - row.tokens.begin()]++;
            row.seen[at - row.tokens.begin()] = 1;
        }
    }
    std::vector<float> want = l, got = l;
    int f32Differs = 0;
    for (size_t r = 0; r < rows.size(); r++) {
        const LogitEditRow& row = resolved[r];
        for (size_t i = 0; i < row.tokens.size(); i++) {
            float& w = want[r * stride + row.tokens[i]];
            if (!(w < INFINITY)) continue;
            const float before = w;
            w = editedReference(before, row, i);
            float f = row.bias[i] == 0 ? before : row.bias[i] <= -100.0f ? -INFINITY : before + row.bias[i];
            if (row.repetition != 1 && row.seen[i]) f = f > 0 ? f / (float) row.repetition : f * (float) row.repetition;
            if (row.generated[i] > 0 && (row.presence != 0 || row.frequency != 0))
                f = f - ((float) row.frequency * row.generated[i] + (float) row.presence);
            f32Differs += __float_as_uint(f) != __float_as_uint(w);
        }
    }
    LsLogitEditsParams p{P(got.data()), P(entryStart.data()), P(tokens.data()), P(bias.data()), P(generated.data()),
                         P(seen.data()), P(repetition.data()), P(presence.data()), P(frequency.data()),
                         P(pendingRow.data()), P(previousTokens.data()), (int) rows.size(), stride};
    emu_launch(ls_logit_edits, (unsigned) rows.size(), 1, LS_THREADS, 0, p);
    int differ = 0;
    for (size_t i = 0; i < want.size(); i++) differ += __float_as_uint(got[i]) != __float_as_uint(want[i]);
    std::printf("  ls_logit_edits: %zu entries; a plain f32 evaluation would differ in %d of them\n", tokens.size(),
                f32Differs);
    report("ls_logit_edits 7 rows x 3000, stride 3005, 3 pending tokens (bits differ)", differ, 0);
}

static void copyCombineEmbedding() {
    int rows = 4, cols = 300, srcRows = 10;
    auto src = gauss(srcRows * cols);
    std::vector<float> dst(srcRows * (cols + 2), 0);
    std::vector<int> si = {9, 0, 3, 3}, di = {1, 8, 2, 5};
    LsCopyRowsParams p{P(src.data()), P(si.data()), P(dst.data()), P(di.data()), rows, cols, cols, cols + 2};
    emu_launch(ls_copy_rows, rows, 2, 256, 0, p);
    double e = 0;
    for (int i = 0; i < rows; i++) for (int c = 0; c < cols; c++) e = std::max(e, (double) std::fabs(dst[di[i] * (cols + 2) + c] - src[si[i] * cols + c]));
    report("ls_copy_rows", e, 0);
    {   // f32 -> bf16 (the bf16 cache's write: nearest even, ties included) and bf16 -> f32 (its gather)
        auto srcT = src;
        srcT[si[0] * cols] = __uint_as_float(0x3F808000u);   // a tie: rounds down to the even 1.0
        srcT[si[0] * cols + 1] = __uint_as_float(0x3F818000u); // a tie: rounds up to the even 0x3F82
        std::vector<unsigned short> half(srcRows * (cols + 8), 0x7777);
        LsCopyRowsParams w{P(srcT.data()), P(si.data()), P(half.data()), P(di.data()), rows, cols, cols, cols + 8,
                           LS_DTYPE_F32, LS_DTYPE_BF16};
        emu_launch(ls_copy_rows, rows, 2, 256, 0, w);
        int wrong = 0;
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < cols; c++) wrong += half[di[i] * (cols + 8) + c] != bf16(srcT[si[i] * cols + c]);
        wrong += half[di[0] * (cols + 8)] != 0x3F80 || half[di[0] * (cols + 8) + 1] != 0x3F82;
        wrong += half[di[0] * (cols + 8) + cols] != 0x7777;   // the stride's pad is left alone
        report("ls_copy_rows f32 -> bf16 (mismatches)", wrong, 0);
        std::vector<float> back(rows * cols, -1);
        LsCopyRowsParams g{P(half.data()), P(di.data()), P(back.data()), 0, rows, cols, cols + 8, cols,
                           LS_DTYPE_BF16, LS_DTYPE_F32};
        emu_launch(ls_copy_rows, rows, 2, 256, 0, g);
        double eb = 0;
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < cols; c++)
                eb = std::max(eb, (double) std::fabs(back[i * cols + c] - widen(half[di[i] * (cols + 8) + c])));
        report("ls_copy_rows bf16 -> f32", eb, 0);
    }
    int K = 3;
    auto y = gauss(rows * K * cols), out = gauss(rows * cols);
    auto start = out;
    std::vector<int> pr(rows * K);
    std::iota(pr.begin(), pr.end(), 0);
    std::shuffle(pr.begin(), pr.end(), rng);
    auto pw = gauss(rows * K);
    LsMoeCombineParams c{P(y.data()), P(pr.data()), P(pw.data()), P(out.data()), rows, cols, K, cols};
    emu_launch(ls_moe_combine, rows, 2, 256, 0, c);
    std::vector<double> want(rows * cols);
    for (int t = 0; t < rows; t++) for (int j = 0; j < cols; j++) {
        double a = start[t * cols + j];
        for (int k = 0; k < K; k++) a += (double) pw[t * K + k] * y[pr[t * K + k] * cols + j];
        want[t * cols + j] = a;
    }
    report("ls_moe_combine", relErr(out, want), 1e-6);
    int vocab = 50;
    auto table = gauss(vocab * cols);
    std::vector<unsigned short> tb(table.size());
    for (size_t i = 0; i < table.size(); i++) tb[i] = bf16(table[i]);
    std::vector<int> ids = {49, 0, 7};
    std::vector<float> emb(3 * (cols + 1));
    LsEmbeddingParams ep{P(tb.data()), P(ids.data()), P(emb.data()), 3, cols, LS_DTYPE_BF16, cols + 1};
    emu_launch(ls_embedding, 3, 1, 256, 0, ep);
    double ee = 0;
    for (int t = 0; t < 3; t++) for (int j = 0; j < cols; j++) ee = std::max(ee, (double) std::fabs(emb[t * (cols + 1) + j] - widen(tb[ids[t] * cols + j])));
    report("ls_embedding bf16", ee, 0);
}

/*
 * The device-side MoE of decode batches: ls_moe_sort (exact layout), ls_moe_gate_up and ls_moe_down (vs f64),
 * then ls_moe_combine on their output vs the f64 MoE. Routing: RANDOM (distinct experts per token), SKEWED
 * (every token on the last expert, the rest from the first few: most experts get no token), SAME (every token
 * on the same K experts: they get all tokens, the others none). S > 0 folds S shared experts in as the model has
 * them: one MLP of width S*I (gate/up [S*I, D], down [D, S*I] in one allocation each), seen by the kernels as S
 * extra experts (ids E..E+S-1) whose weights are slices of it: gate/up rows s*I.., down columns s*I.. with row
 * stride S*I; every token takes them with weight 1.
 */
enum MoeRoutingKind { MOE_RANDOM, MOE_SKEWED, MOE_SAME, MOE_COUNTS };
/* MOE_COUNTS (T 400, E 7, top-2): experts with 0, 1, 127, 128, 129, 400 and 15 rows, the wgmma kernels' tile
 * edges: every token takes expert 5 and one of the others, as many times as its count says */
static const int kMoeCounts[7] = {0, 1, 127, 128, 129, 400, 15};

/* The wgmma MoE checks: weight tiles by TMA (tensor maps per expert) or by cp.async. */
static bool wgmmaTma = false;

static void moeDecode(int T, int E, int K, int D, int I, MoeRoutingKind kind, bool bf16Weights,
                      bool tensorCores = false, int S = 0, int wgmmaTerms = 0) {
    std::string name = "T " + std::to_string(T) + " E " + std::to_string(E) + " top-" + std::to_string(K) + " D "
                       + std::to_string(D) + " I " + std::to_string(I)
                       + (kind == MOE_RANDOM ? " random" : kind == MOE_SKEWED ? " skewed" : kind == MOE_SAME ? " same"
                          : " 0/1/127/128/129/400/15 rows")
                       + (bf16Weights ? " bf16" : " f32") + (S > 0 ? " + " + std::to_string(S) + " shared" : "");
    const bool wgmma = wgmmaTerms > 0;
    if (wgmma) name += " aTerms " + std::to_string(wgmmaTerms) + (wgmmaTma ? " tma" : " cp.async");
    const std::string gateUp = wgmma ? "ls_moe_gate_up_wgmma " : tensorCores ? "ls_moe_gate_up_tc " : "ls_moe_gate_up ";
    const std::string down = wgmma ? "ls_moe_down_wgmma " : tensorCores ? "ls_moe_down_tc " : "ls_moe_down ";
    // the CUDA-core kernels accumulate f32 products; the tensor-core ones x split into bf16 hi + lo; wgmma with one
    // term rounds the activations to bf16 (8 significant bits: ~2^-9 relative per product)
    const double tol = wgmmaTerms == 1 ? 5e-3 : tensorCores || wgmma ? 1e-5 : 2e-6;
    std::vector<int> experts(T * K);
    std::vector<float> weights(T * K);
    std::uniform_real_distribution<double> unit(0, 1);
    for (int t = 0; t < T; t++) {
        std::vector<int> ids(E);
        std::iota(ids.begin(), ids.end(), 0);
        if (kind == MOE_RANDOM) std::shuffle(ids.begin(), ids.end(), rng);
        if (kind == MOE_SKEWED) { // the last expert, then K-1 of the first K+1
            std::shuffle(ids.begin(), ids.begin() + std::min(E - 1, K + 1), rng);
            std::swap(ids[0], ids[E - 1]);
            std::swap(ids[0], ids[K - 1 < E - 1 ? K - 1 : 0]);
        }
        if (kind == MOE_SAME) std::rotate(ids.begin(), ids.begin() + (E > K ? 1 : 0), ids.end());
        for (int k = 0; k < K; k++) { experts[t * K + k] = ids[k]; weights[t * K + k] = (float) unit(rng); }
    }
    if (kind == MOE_COUNTS) {
        if (T != 400 || E != 7 || K != 2) { std::fprintf(stderr, "MOE_COUNTS needs T 400, E 7, top-2\n"); std::abort(); }
        std::vector<int> others;
        for (int e = 0; e < E; e++)
            if (e != 5) others.insert(others.end(), kMoeCounts[e], e);
        std::shuffle(others.begin(), others.end(), rng);
        for (int t = 0; t < T; t++) {   // the order within a token is the routing's: either may come first
            const bool swap = unit(rng) < 0.5;
            experts[t * K + (swap ? 1 : 0)] = 5;
            experts[t * K + (swap ? 0 : 1)] = others[t];
        }
    }
    // reference layout: routed rows expert after expert, tokens ascending within one, then the shared experts'
    // rows (every token); each token lists its shared experts first, then its routed ones by ascending id
    const int slots = S + K;
    const int pairs = T * K, rows = T * slots;
    std::vector<int> wantOffsets(E + S + 1, 0), wantRowToken, wantPairRows(rows), rowOfPair(pairs);
    std::vector<float> wantPairWeights(rows);
    for (int e = 0; e < E; e++) {
        wantOffsets[e] = (int) wantRowToken.size();
        for (int i = 0; i < pairs; i++)
            if (experts[i] == e) { rowOfPair[i] = (int) wantRowToken.size(); wantRowToken.push_back(i / K); }
    }
    for (int s = 0; s < S; s++) {
        wantOffsets[E + s] = (int) wantRowToken.size();
        for (int t = 0; t < T; t++) {
            wantPairRows[t * slots + s] = (int) wantRowToken.size();
            wantPairWeights[t * slots + s] = 1.0f;
            wantRowToken.push_back(t);
        }
    }
    wantOffsets[E + S] = rows;
    for (int t = 0; t < T; t++) {
        std::vector<int> order(K);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int a, int b) { return experts[t * K + a] < experts[t * K + b]; });
        for (int j = 0; j < K; j++) {
            wantPairRows[t * slots + S + j] = rowOfPair[t * K + order[j]];
            wantPairWeights[t * slots + S + j] = weights[t * K + order[j]];
        }
    }
    std::vector<int> offsets(E + S + 1, -1), rowToken(rows, -1), pairRows(rows, -1);
    std::vector<float> pairWeights(rows, -1);
    LsMoeSortParams sp{P(experts.data()), P(weights.data()), P(offsets.data()), P(rowToken.data()), P(pairRows.data()),
                       P(pairWeights.data()), T, K, E, S};
    emu_launch(ls_moe_sort, 1, 1, 256, 0, sp);
    int wrong = 0;
    for (int e = 0; e <= E + S; e++) wrong += offsets[e] != wantOffsets[e];
    for (int i = 0; i < rows; i++)
        wrong += (rowToken[i] != wantRowToken[i]) + (pairRows[i] != wantPairRows[i]) + (pairWeights[i] != wantPairWeights[i]);
    int touched = 0;
    for (int e = 0; e < E; e++) touched += wantOffsets[e + 1] > wantOffsets[e];
    report("ls_moe_sort " + name + " (" + std::to_string(touched) + " touched, wrong)", wrong, 0);

    // weights: per routed expert gate, up [I, D] and down [D, I], bf16 or f32, separate allocations as on the device;
    // the shared MLP's three matrices (index E) as one allocation each
    std::vector<std::vector<float>> gw(E + 1), uw(E + 1), dw(E + 1);          // the values (bf16-representable)
    std::vector<std::vector<unsigned short>> gb(E + 1), ub(E + 1), db(E + 1); // bf16 storage
    std::vector<ls_ptr> gateTable(E + S), upTable(E + S), downTable(E + S);
    std::vector<int> downStrides(E + S, I);
    const size_t wordBytes = bf16Weights ? 2 : 4;
    auto make = [&](std::vector<float>& v, std::vector<unsigned short>& b, size_t n, double std) -> ls_ptr {
        v = gauss(n, std);
        if (!bf16Weights) return P(v.data());
        b.resize(n);
        for (size_t i = 0; i < n; i++) { b[i] = bf16(v[i]); v[i] = widen(b[i]); }
        return P(b.data());
    };
    for (int e = 0; e < E; e++) {
        gateTable[e] = make(gw[e], gb[e], (size_t) I * D, 1 / std::sqrt(D));
        upTable[e] = make(uw[e], ub[e], (size_t) I * D, 1 / std::sqrt(D));
        downTable[e] = make(dw[e], db[e], (size_t) D * I, 1 / std::sqrt(I));
    }
    if (S > 0) {
        const ls_ptr g = make(gw[E], gb[E], (size_t) S * I * D, 1 / std::sqrt(D));
        const ls_ptr u = make(uw[E], ub[E], (size_t) S * I * D, 1 / std::sqrt(D));
        const ls_ptr d = make(dw[E], db[E], (size_t) D * S * I, 1 / std::sqrt(S * I));
        for (int s = 0; s < S; s++) {
            gateTable[E + s] = g + (size_t) s * I * D * wordBytes;
            upTable[E + s] = u + (size_t) s * I * D * wordBytes;
            downTable[E + s] = d + (size_t) s * I * wordBytes;
            downStrides[E + s] = S * I;
        }
    }
    // expert e's weights as values: gate/up row i, down (row d, column i)
    auto gateW = [&](int e, int i, int d) { return e < E ? gw[e][(size_t) i * D + d] : gw[E][((size_t) (e - E) * I + i) * D + d]; };
    auto upW = [&](int e, int i, int d) { return e < E ? uw[e][(size_t) i * D + d] : uw[E][((size_t) (e - E) * I + i) * D + d]; };
    auto downW = [&](int e, int d, int i) { return e < E ? dw[e][(size_t) d * I + i] : dw[E][(size_t) d * S * I + (e - E) * I + i]; };
    int xStride = D + 3; // a column view: the kernel must not assume dense x
    auto x = gauss((size_t) T * xStride);
    std::vector<float> h((size_t) rows * I, NAN), y((size_t) rows * D, NAN);
    int dtype = bf16Weights ? LS_DTYPE_BF16 : LS_DTYPE_F32;
    const int tableSize = E + S;
    // the wgmma kernels' persistent grid: few blocks, each taking many work items (the ring's phases run on across
    // tiles), or more blocks than items (spare blocks set up and leave)
    const unsigned wgBlocks = T >= 64 ? 3 : 200;
    // the wgmma kernels take x as its bf16 terms (ls_split_bf16: hi rows, then lo rows, dense) and write h as
    // bf16 terms, which the down kernel reads; h below is their sum
    std::vector<unsigned short> xSplit, hHi, hLo;
    // the weight maps (gate, up, down per table entry), as CudaExpertTables encodes them
    std::unique_ptr<unsigned char, decltype(&std::free)> maps(nullptr, &std::free);
    if (wgmma && wgmmaTma) {
        maps.reset(static_cast<unsigned char*>(std::aligned_alloc(64, (size_t) 3 * tableSize * LS_TENSOR_MAP_BYTES)));
        const unsigned ones[2] = {1, 1};
        for (int e = 0; e < tableSize; e++) {
            const unsigned long long gateDims[2] = {(unsigned long long) D, (unsigned long long) I};
            const unsigned long long gateStride[1] = {(unsigned long long) D * 2};
            const unsigned gateBox[2] = {64, 128};
            const unsigned long long downDims[2] = {(unsigned long long) I, (unsigned long long) D};
            const unsigned long long downStride[1] = {(unsigned long long) downStrides[e] * 2};
            const unsigned downBox[2] = {64, 256};
            int bad = emu_tensor_map_encode(maps.get() + (3 * e) * LS_TENSOR_MAP_BYTES, 9, 2, (void*) gateTable[e],
                                            gateDims, gateStride, gateBox, ones, 0, 3, 3, 0)
                      + emu_tensor_map_encode(maps.get() + (3 * e + 1) * LS_TENSOR_MAP_BYTES, 9, 2, (void*) upTable[e],
                                              gateDims, gateStride, gateBox, ones, 0, 3, 3, 0)
                      + emu_tensor_map_encode(maps.get() + (3 * e + 2) * LS_TENSOR_MAP_BYTES, 9, 2, (void*) downTable[e],
                                              downDims, downStride, downBox, ones, 0, 3, 3, 0);
            if (bad) { std::fprintf(stderr, "tensor maps of entry %d refused\n", e); std::abort(); }
        }
    }
    if (wgmma) {
        xSplit.assign((size_t) 2 * T * D, 0xFFFF);
        LsSplitBf16Params split{P(x.data()), P(xSplit.data()), T, D, xStride, wgmmaTerms == 1};
        emu_launch(ls_split_bf16, T, (D + 255) / 256, 256, 0, split);
        hHi.assign((size_t) rows * I, 0xFFFF);
        hLo.assign((size_t) rows * I, 0xFFFF);
        LsMoeGateUpWgmmaParams gp{P(xSplit.data()), P(xSplit.data() + (size_t) T * D), P(gateTable.data()),
                                  P(upTable.data()), P(offsets.data()), P(rowToken.data()), P(hHi.data()),
                                  P(hLo.data()), P(maps.get()), tableSize, D, I, D, I, wgmmaTerms};
        emu_launch(ls_moe_gate_up_wgmma, wgBlocks, 1, LS_MOE_WG_THREADS, LS_MOE_WG_SMEM, gp);
        for (size_t i = 0; i < h.size(); i++) h[i] = widen(hHi[i]) + (wgmmaTerms == 2 ? widen(hLo[i]) : 0.0f);
    } else if (tensorCores) {
        LsMoeGateUpTcParams gp{P(x.data()), P(gateTable.data()), P(upTable.data()), P(offsets.data()),
                               P(rowToken.data()), P(h.data()), tableSize, D, I, xStride, I, 0};
        emu_launch(ls_moe_gate_up_tc, tableSize, (I + LS_MOE_TC_FEATURES - 1) / LS_MOE_TC_FEATURES, 256, 0, gp);
    } else {
        LsMoeGateUpParams gp{P(x.data()), P(gateTable.data()), P(upTable.data()), P(offsets.data()),
                             P(rowToken.data()), P(h.data()), tableSize, D, I, xStride, I, dtype};
        emu_launch(ls_moe_gate_up, tableSize, (I + LS_MOE_GATE_UP_ROWS - 1) / LS_MOE_GATE_UP_ROWS, 256, 0, gp);
    }
    std::vector<double> wantH((size_t) rows * I);
    for (int e = 0; e < tableSize; e++)
        for (int r = wantOffsets[e]; r < wantOffsets[e + 1]; r++)
            for (int i = 0; i < I; i++) {
                double g = 0, u = 0;
                for (int d = 0; d < D; d++) {
                    double xv = x[(size_t) wantRowToken[r] * xStride + d];
                    g += (double) gateW(e, i, d) * xv;
                    u += (double) upW(e, i, d) * xv;
                }
                wantH[(size_t) r * I + i] = g / (1 + std::exp(-g)) * u;
            }
    report(gateUp + name, relErr(h, wantH), tol);
    if (wgmma) {
        LsMoeDownWgmmaParams dp{P(hHi.data()), P(hLo.data()), P(downTable.data()), P(downStrides.data()),
                                P(offsets.data()), P(y.data()), P(maps.get()), tableSize, D, I, I, D, wgmmaTerms};
        emu_launch(ls_moe_down_wgmma, wgBlocks, 1, LS_MOE_WG_THREADS, LS_MOE_WG_SMEM, dp);
    } else if (tensorCores) {
        LsMoeDownTcParams dp{P(h.data()), P(downTable.data()), P(downStrides.data()), P(offsets.data()), P(y.data()),
                             tableSize, D, I, I, D, 0};
        emu_launch(ls_moe_down_tc, tableSize, (D + LS_MOE_TC_FEATURES - 1) / LS_MOE_TC_FEATURES, 256, 0, dp);
    } else {
        LsMoeDownParams dp{P(h.data()), P(downTable.data()), P(downStrides.data()), P(offsets.data()), P(y.data()),
                           tableSize, D, I, I, D, dtype};
        emu_launch(ls_moe_down, tableSize, (D + LS_MOE_DOWN_ROWS - 1) / LS_MOE_DOWN_ROWS, 256, 0, dp);
    }
    std::vector<double> wantY((size_t) rows * D);
    for (int e = 0; e < tableSize; e++)
        for (int r = wantOffsets[e]; r < wantOffsets[e + 1]; r++)
            for (int d = 0; d < D; d++) {
                double a = 0;
                for (int i = 0; i < I; i++) a += (double) downW(e, d, i) * h[(size_t) r * I + i];
                wantY[(size_t) r * D + d] = a;
            }
    report(down + name, relErr(y, wantY), tol);
    // combine onto a non-zero out, vs the f64 MoE from the reference h: the routed experts, plus the shared MLP
    // computed as the model computes it (one MLP of width S*I, not as slices)
    auto out = gauss((size_t) T * D);
    std::vector<double> want(out.begin(), out.end());
    LsMoeCombineParams cp{P(y.data()), P(pairRows.data()), P(pairWeights.data()), P(out.data()), T, D, slots, D};
    emu_launch(ls_moe_combine, T, (D + 255) / 256, 256, 0, cp);
    for (int t = 0; t < T; t++) {
        for (int k = 0; k < K; k++) {
            int e = experts[t * K + k], r = rowOfPair[t * K + k];
            for (int d = 0; d < D; d++) {
                double a = 0;
                for (int i = 0; i < I; i++) a += (double) downW(e, d, i) * wantH[(size_t) r * I + i];
                want[(size_t) t * D + d] += weights[t * K + k] * a;
            }
        }
        if (S == 0) continue;
        std::vector<double> hs((size_t) S * I);
        for (int j = 0; j < S * I; j++) {
            double g = 0, u = 0;
            for (int d = 0; d < D; d++) {
                double xv = x[(size_t) t * xStride + d];
                g += (double) gw[E][(size_t) j * D + d] * xv;
                u += (double) uw[E][(size_t) j * D + d] * xv;
            }
            hs[j] = g / (1 + std::exp(-g)) * u;
        }
        for (int d = 0; d < D; d++) {
            double a = 0;
            for (int j = 0; j < S * I; j++) a += (double) dw[E][(size_t) d * S * I + j] * hs[j];
            want[(size_t) t * D + d] += a;
        }
    }
    report(std::string("moe decode end to end ") + (wgmma ? "wgmma " : tensorCores ? "tc " : "") + name, relErr(out, want),
           wgmmaTerms == 1 ? tol : 1e-5);
}

/* Hopper wgmma kernels (prefill-sized tiles of 128 rows): experts of 0, 1, 127, 128, 129 and 400 rows, widths
 * 16 mod 64 (a last stage of 16 values and zeros), fewer features than a tile; both activation precisions */
static void wgmmaMoe() {
    for (bool tma : {false, true}) {   // weight tiles by cp.async rows, then by TMA boxes (zeros past the edges)
        wgmmaTma = tma;
        moeDecode(400, 7, 2, 80, 48, MOE_COUNTS, true, false, 0, 2);
        moeDecode(400, 7, 2, 80, 48, MOE_COUNTS, true, false, 0, 1);
        moeDecode(64, 16, 6, 256, 96, MOE_RANDOM, true, false, 2, 2);   // 2 shared experts folded in: down stride 192
        moeDecode(7, 160, 6, 272, 208, MOE_SKEWED, true, false, 0, 2);  // 2 feature tiles each, most experts empty
        moeDecode(7, 160, 6, 272, 208, MOE_SKEWED, true, false, 0, 1);  // 4 stages of one term: 5 and 4 K stages
    }
    wgmmaTma = false;
}

/* ls_mla_decode_tc and its bulk-copy variant ls_mla_decode_tma (each case runs both). */
static void mlaDecodeTcCases() {
    mlaDecodeTc(1, 512, 64, 16, {1, 63, 64, 65, 1000}, 64, 0);
    mlaDecodeTc(16, 512, 64, 64, {1, 63, 64, 65, 1000, 4096}, 256, 0);
    mlaDecodeTc(16, 512, 64, 16, {4096, 65, 1}, 1000, 8);       // chunks not a multiple of the tile
    mlaDecodeTc(16, 512, 64, 64, {1000, 17}, 100000, 0);         // one split each: the decode kernel writes out
    mlaDecodeTc(128, 512, 64, 64, {1, 65, 1000}, 128, 0);
    mlaDecodeTc(3, 512, 64, 16, {70, 5, 33}, 16, 4);             // padded heads, element copies
    mlaDecodeTc(3, 48, 16, 16, {70, 5, 33}, 48, 0);              // small dims: idle dim slices and column pairs
    mlaDecodeTc(5, 128, 32, 64, {300, 64}, 96, 2);               // 2 of 8 warps own output columns
}

/* Every ls_sample check (LS_CHECK_ONLY=sample runs these alone). */
static void sampleChecks() {
    sample(6, 1000, 0, 0, 1, true);
    sample(6, 1000, 1, 0, 1, false);
    sample(6, 1000, 0.7, 5, 1, true);
    sample(6, 1000, 1.3, 0, 0.9, false);
    sample(4, 3000, 1, 40, 0.5, true);
    sample(2, 1, 1, 0, 1, false);
    sample(24, 2000, 0.8, 0, 0.95, true);    // many draws through each k-ary search (top-p, then the draw)
    sample(16, 5000, 1.0, 100, 0.9, false);
    sampleEdges();
    sampleListPaths();
    logitEdits();
}

int main() {
    mmaFragments();
    ldmatrixFragments();
    wgmmaFragments();
    wgmmaGemm();
    mbarrierPrimitives();
    emuStrictness();
    setvbuf(stdout, nullptr, _IONBF, 0);
    if (const char* only = std::getenv("LS_CHECK_ONLY"); only != nullptr && std::string(only) == "mladecode") {
        mlaDecodeTcCases();   // LS_CHECK_ONLY=mladecode: the MLA tensor-core decode kernels alone
        std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "ALL PASS", failures);
        return failures ? 1 : 0;
    }
    if (const char* only = std::getenv("LS_CHECK_ONLY"); only != nullptr && std::string(only) == "wgmma") {
        wgmmaMoe();   // LS_CHECK_ONLY=wgmma: the Hopper checks alone, while working on them
        std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "ALL PASS", failures);
        return failures ? 1 : 0;
    }
    if (const char* only = std::getenv("LS_CHECK_ONLY"); only != nullptr && std::string(only) == "elementwise") {
        rmsnorm();   // LS_CHECK_ONLY=elementwise: RMSNorm, RoPE and the fused MLA latent rows alone
        rope();
        mlaLatent();
        std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "ALL PASS", failures);
        return failures ? 1 : 0;
    }
    if (const char* only = std::getenv("LS_CHECK_ONLY"); only != nullptr && std::string(only) == "sample") {
        sampleChecks();   // LS_CHECK_ONLY=sample: the sampling kernel alone
        std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "ALL PASS", failures);
        return failures ? 1 : 0;
    }
    splitAndAdd();
    rmsnorm();
    rope();
    mlaLatent();
    copyCombineEmbedding();
    attention("GQA paged 4/2 heads, d 16, bs 16", 4, 2, 16, 0, 16, 16, true);
    attention("MHA paged 2 heads, d 40, bs 1", 2, 1, 40, 0, 40, 1, true);
    attention("absorbed-like 3 heads share, d 72, dv 64", 3, 3, 72, 0, 64, 16, true);
    attention("MLA prefill contiguous, d1 16 + d2 8", 2, 1, 16, 8, 16, 16, false);
    attention("wide value dv 512, d 576", 1, 1, 576, 0, 512, 64, true);
    attention("GQA paged 4/2 heads, d 16, bs 16", 4, 2, 16, 0, 16, 16, true, true);
    attention("absorbed-like 3 heads share, d 72, dv 64", 3, 3, 72, 0, 64, 16, true, true);
    attention("MLA prefill contiguous, d1 16 + d2 8", 2, 1, 16, 8, 16, 16, false, true);
    attention("wide value dv 512, d 576", 1, 1, 576, 0, 512, 64, true, true);
    mlaAbsorbAndApply();
    mlaDecode(1, 512, 64, 16, {1, 63, 64, 65, 1000}, 64);
    mlaDecode(16, 512, 64, 64, {1, 63, 64, 65, 1000, 4096}, 256);
    mlaDecode(16, 512, 64, 16, {4096, 65, 1}, 1000);        // chunks not a multiple of the tile
    mlaDecode(16, 512, 64, 64, {1000, 17}, 100000);          // one split each: the decode kernel writes out
    mlaDecode(128, 512, 64, 64, {1, 65, 1000}, 128);
    mlaDecode(3, 40, 7, 16, {70, 5, 33}, 16);                // small odd dims: partly empty lanes, scalar loads
    // bf16 cache: 16-byte copies (stride a multiple of 8 values), per-value copies (stride 580, odd dims)
    mlaDecode(1, 512, 64, 16, {1, 63, 64, 65, 1000}, 64, true, 8);
    mlaDecode(16, 512, 64, 64, {1, 63, 64, 65, 1000, 4096}, 256, true, 8);
    mlaDecode(16, 512, 64, 16, {4096, 65, 1}, 1000, true, 4);
    mlaDecode(16, 512, 64, 64, {1000, 17}, 100000, true, 0);
    mlaDecode(128, 512, 64, 64, {1, 65, 1000}, 128, true, 8);
    mlaDecode(3, 40, 7, 16, {70, 5, 33}, 16, true, 3);
    mlaDecodeTcCases();
    // V2-Lite head dims: chunked prefill (first new token past 0), items not multiples of 64, a one-token chunk
    mlaPrefillTc(2, 128, 64, 128, {{0, 70}, {100, 37}, {5, 1}, {0, 130}}, 3, 0);
    mlaPrefillTc(2, 128, 64, 128, {{0, 70}, {100, 37}, {5, 1}, {0, 130}}, 1, 0);
    mlaPrefillTc(3, 16, 16, 32, {{40, 90}, {0, 3}, {31, 33}}, 3, 3);   // small dims, element copies
    mlaPrefillTc(3, 16, 16, 32, {{40, 90}, {0, 3}, {31, 33}}, 1, 3);
    mlaPrefillTc(1, 32, 0, 16, {{0, 65}, {7, 20}}, 3, 0);              // no rope part: k-steps of k_nope only
    route(5, 8, 2, false, 1, 1, false, 1.0f);
    route(4, 64, 6, false, 1, 1, false, 1.0f);
    route(4, 160, 6, true, 8, 3, false, 16.0f);
    route(3, 16, 4, true, 4, 1, true, 2.5f);
    route(2, 16, 6, true, 4, 1, false, 1.0f); // fewer kept experts than top-k: falls back to masked ones
    sampleChecks();
    moeDecode(1, 8, 2, 64, 32, MOE_RANDOM, true);
    moeDecode(7, 8, 2, 64, 32, MOE_SAME, false);
    moeDecode(7, 160, 6, 1032, 200, MOE_SKEWED, true); // partial slice and row tiles, most experts empty
    moeDecode(64, 64, 6, 256, 96, MOE_RANDOM, true);
    moeDecode(1, 64, 6, 2048, 1408, MOE_RANDOM, true); // DeepSeek-V2-Lite decode of one token
    moeDecode(256, 64, 6, 128, 64, MOE_SKEWED, true);  // one expert holds all 256 tokens: 32 token tiles
    moeDecode(256, 160, 6, 64, 32, MOE_RANDOM, false);
    moeDecode(64, 8, 2, 1024, 32, MOE_SAME, true);     // all tokens on the same 2 of 8 experts
    // tensor-core kernels (bf16 weights, widths multiples of 16)
    moeDecode(1, 8, 2, 64, 32, MOE_RANDOM, true, true);
    moeDecode(7, 8, 2, 48, 80, MOE_SAME, true, true);       // widths 16 mod 32: the half step of 16 values
    moeDecode(7, 160, 6, 1040, 208, MOE_SKEWED, true, true); // partial slice, last block with 2 of 8 warps busy
    moeDecode(64, 64, 6, 256, 96, MOE_RANDOM, true, true);
    moeDecode(256, 64, 6, 128, 64, MOE_SKEWED, true, true);  // one expert holds all 256 tokens: 8 passes of 32
    moeDecode(256, 160, 6, 64, 32, MOE_RANDOM, true, true);
    moeDecode(40, 4, 4, 96, 48, MOE_SAME, true, true);       // 40 tokens per expert: a pass of 32, one of 8
    moeDecode(1, 64, 6, 2048, 1408, MOE_RANDOM, true, true); // DeepSeek-V2-Lite decode of one token
    moeDecode(16, 8, 2, 2048, 1408, MOE_RANDOM, true, true); // V2-Lite widths, 16 tokens over 8 experts
    // shared experts folded in as extra experts (down slices with row stride S*I), CUDA and tensor cores
    moeDecode(1, 8, 2, 64, 32, MOE_RANDOM, true, false, 1);
    moeDecode(7, 8, 2, 64, 40, MOE_RANDOM, false, false, 2);   // f32 weights, 40-wide slices of an 80-wide MLP
    moeDecode(64, 16, 6, 128, 32, MOE_SKEWED, true, false, 2); // 64 rows per shared expert: 8 row tiles
    moeDecode(1, 8, 2, 64, 32, MOE_RANDOM, true, true, 1);
    moeDecode(7, 8, 2, 48, 80, MOE_SAME, true, true, 2);       // widths 16 mod 32, stride 160
    moeDecode(64, 16, 6, 128, 32, MOE_RANDOM, true, true, 2);  // 64 rows per shared expert: 2 passes of 32
    moeDecode(1, 64, 6, 2048, 1408, MOE_RANDOM, true, true, 2); // DeepSeek-V2-Lite decode of one token
    wgmmaMoe();
    std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "ALL PASS", failures);
    return failures ? 1 : 0;
}
