// AVX-512F/DQ primitives for kernels/kernel_bodies.h (16 float lanes). Included only by kernels_avx512.cc,
// which is compiled with -mavx512f -mavx512dq -mfma. Everything has internal linkage inside the
// ISA namespace, so nothing compiled with these flags can be shared with other translation units.
#ifndef TFJS_FOCAL_LOSS_SIMD_AVX512_H_
#define TFJS_FOCAL_LOSS_SIMD_AVX512_H_

#include <immintrin.h>
#include <stdint.h>

namespace focal {
namespace detail {
namespace avx512 {
namespace {

constexpr int kLanes = 16;

struct VF {
  __m512 v;
};
struct MF {
  __mmask16 m;
};

inline __mmask16 first_n(int n) { return static_cast<__mmask16>((1u << n) - 1u); }

inline VF loadu(const float* p) { return {_mm512_loadu_ps(p)}; }
// Lanes >= n are `fill`; memory beyond p[n-1] is not touched.
inline VF load_partial(const float* p, int n, float fill) {
  return {_mm512_mask_loadu_ps(_mm512_set1_ps(fill), first_n(n), p)};
}
inline void storeu(float* p, VF a) { _mm512_storeu_ps(p, a.v); }
inline void store_partial(float* p, VF a, int n) { _mm512_mask_storeu_ps(p, first_n(n), a.v); }

inline VF set1(float x) { return {_mm512_set1_ps(x)}; }
inline VF add(VF a, VF b) { return {_mm512_add_ps(a.v, b.v)}; }
inline VF sub(VF a, VF b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline VF mul(VF a, VF b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline VF div(VF a, VF b) { return {_mm512_div_ps(a.v, b.v)}; }
inline VF fma(VF a, VF b, VF c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }    // a b + c
inline VF fnma(VF a, VF b, VF c) { return {_mm512_fnmadd_ps(a.v, b.v, c.v)}; }  // c - a b
inline VF max(VF a, VF b) { return {_mm512_max_ps(a.v, b.v)}; }
inline VF min(VF a, VF b) { return {_mm512_min_ps(a.v, b.v)}; }
inline VF sqrt(VF a) { return {_mm512_sqrt_ps(a.v)}; }
inline VF abs(VF a) { return {_mm512_abs_ps(a.v)}; }

inline MF lt(VF a, VF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
inline MF nlt(VF a, VF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_NLT_UQ)}; }  // !(a < b), true if unordered
inline MF le(VF a, VF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)}; }
inline MF gt(VF a, VF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
inline MF eq(VF a, VF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)}; }
inline MF neq(VF a, VF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_NEQ_UQ)}; }
inline MF is_nan(VF a) { return {_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q)}; }
inline MF mand(MF a, MF b) { return {static_cast<__mmask16>(a.m & b.m)}; }
inline MF mor(MF a, MF b) { return {static_cast<__mmask16>(a.m | b.m)}; }
inline MF mnone() { return {0}; }
inline MF mnot(MF a) { return {static_cast<__mmask16>(~a.m)}; }
inline MF tail_mask(int n) { return {first_n(n)}; }  // lanes < n
inline bool any(MF a) { return a.m != 0; }
inline int first_lane(MF a) { return __builtin_ctz(static_cast<unsigned>(a.m)); }
inline MF lane_mask(int lane) { return {static_cast<__mmask16>(1u << lane)}; }
inline MF not_lane_mask(int lane) { return {static_cast<__mmask16>(~(1u << lane))}; }
// m ? a : b
inline VF select(MF m, VF a, VF b) { return {_mm512_mask_blend_ps(m.m, b.v, a.v)}; }
inline VF zero_unless(MF m, VF a) { return {_mm512_maskz_mov_ps(m.m, a.v)}; }

inline float hmax(VF a) {
  // (Not _mm512_reduce_max_ps: GCC 12 warns about an uninitialised temporary inside it.)
  const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(a.v), _mm512_extractf32x8_ps(a.v, 1));
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Round to nearest integer (ties to even), as float.
inline VF round_nearest(VF a) {
  return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}
// 2^n for integral n in [-126, 127].
inline VF pow2i(VF n) {
  __m512i i = _mm512_cvtps_epi32(n.v);
  i = _mm512_slli_epi32(_mm512_add_epi32(i, _mm512_set1_epi32(127)), 23);
  return {_mm512_castsi512_ps(i)};
}
// y * 2^n for the exp kernels: scalef handles the whole range (subnormal results, underflow to 0),
// so exp needs no flush-to-zero step; arguments are clamped at kExpMinArg, where exp underflows.
constexpr float kExpMinArg = -104.0f;
inline VF exp_finish(VF y, VF n, MF /*in_range*/) { return {_mm512_scalef_ps(y.v, n.v)}; }
// m ? a + b : a
inline VF add_if(MF m, VF a, VF b) { return {_mm512_mask_add_ps(a.v, m.m, a.v, b.v)}; }

// For positive normal x: x = mant * 2^expo with mant in [1, 2).
inline void frexp12(VF x, VF* mant, VF* expo) {
  *mant = {_mm512_getmant_ps(x.v, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero)};
  *expo = {_mm512_getexp_ps(x.v)};
}

// Lanes of `a` rearranged: lane i gets a[idx[i]], idx[i] in [0, kLanes).
inline VF permute(VF a, const int32_t* idx) {
  return {_mm512_permutexvar_ps(_mm512_loadu_si512(idx), a.v)};
}
// Lane i gets base[idx[i]].
inline VF gather(const float* base, const int32_t* idx) {
  return {_mm512_i32gather_ps(_mm512_loadu_si512(idx), base, 4)};
}
inline VF int_to_float(const int32_t* p) { return {_mm512_cvtepi32_ps(_mm512_loadu_si512(p))}; }

// In-register transpose of the kLanes x kLanes matrix whose row i is r[i]: afterwards r[k] holds
// column k. Pairs within 128-bit lanes, then quads of rows, then 128-bit blocks.
inline void transpose(VF r[kLanes]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i].v, r[i + 1].v);
    t[i + 1] = _mm512_unpackhi_ps(r[i].v, r[i + 1].v);
  }
  // u[4g + c], 128-bit lane L: column 4L + c of rows 4g .. 4g + 3.
  for (int g = 0; g < 4; ++g) {
    const __m512 *lo = &t[4 * g], *hi = &t[4 * g + 2];
    u[4 * g + 0] = _mm512_shuffle_ps(lo[0], hi[0], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * g + 1] = _mm512_shuffle_ps(lo[0], hi[0], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * g + 2] = _mm512_shuffle_ps(lo[1], hi[1], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * g + 3] = _mm512_shuffle_ps(lo[1], hi[1], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 even_lo = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);     // lanes 0, 2 of rows 0-7
    const __m512 odd_lo = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xdd);      // lanes 1, 3
    const __m512 even_hi = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 odd_hi = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xdd);
    r[c].v = _mm512_shuffle_f32x4(even_lo, even_hi, 0x88);
    r[8 + c].v = _mm512_shuffle_f32x4(even_lo, even_hi, 0xdd);
    r[4 + c].v = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0x88);
    r[12 + c].v = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0xdd);
  }
}

// Sum of float lanes accumulated in double.
struct SumD {
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  inline void add(VF a) {
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(a.v)));
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(a.v, 1)));
  }
  inline double total() const {
    const __m512d s = _mm512_add_pd(lo, hi);
    const __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1));
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    t = _mm_add_sd(t, _mm_unpackhi_pd(t, t));
    return _mm_cvtsd_f64(t);
  }
  // The per-lane sums (no horizontal sum), rounded to float.
  inline VF lanes() const {
    return {_mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1)};
  }
};

}  // namespace
}  // namespace avx512
}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_SIMD_AVX512_H_
