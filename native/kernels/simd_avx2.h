// AVX2/FMA primitives for kernels/kernel_bodies.h (8 float lanes). Included only by kernels_avx2.cc, which
// is compiled with -mavx2 -mfma. Internal linkage inside the ISA namespace (ODR safety).
#ifndef TFJS_FOCAL_LOSS_SIMD_AVX2_H_
#define TFJS_FOCAL_LOSS_SIMD_AVX2_H_

#include <immintrin.h>
#include <stdint.h>

namespace focal {
namespace detail {
namespace avx2 {
namespace {

constexpr int kLanes = 8;

struct VF {
  __m256 v;
};
struct MF {
  __m256 m;  // all-ones / all-zeros lanes
};

inline __m256i first_n(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline VF loadu(const float* p) { return {_mm256_loadu_ps(p)}; }
inline VF load_partial(const float* p, int n, float fill) {
  const __m256i m = first_n(n);
  return {_mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m))};
}
inline void storeu(float* p, VF a) { _mm256_storeu_ps(p, a.v); }
inline void store_partial(float* p, VF a, int n) { _mm256_maskstore_ps(p, first_n(n), a.v); }

inline VF set1(float x) { return {_mm256_set1_ps(x)}; }
inline VF add(VF a, VF b) { return {_mm256_add_ps(a.v, b.v)}; }
inline VF sub(VF a, VF b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline VF mul(VF a, VF b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline VF div(VF a, VF b) { return {_mm256_div_ps(a.v, b.v)}; }
inline VF fma(VF a, VF b, VF c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline VF fnma(VF a, VF b, VF c) { return {_mm256_fnmadd_ps(a.v, b.v, c.v)}; }
inline VF max(VF a, VF b) { return {_mm256_max_ps(a.v, b.v)}; }
inline VF min(VF a, VF b) { return {_mm256_min_ps(a.v, b.v)}; }
inline VF sqrt(VF a) { return {_mm256_sqrt_ps(a.v)}; }
inline VF abs(VF a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }

inline MF lt(VF a, VF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline MF nlt(VF a, VF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_NLT_UQ)}; }  // !(a < b), true if unordered
inline MF le(VF a, VF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)}; }
inline MF gt(VF a, VF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
inline MF eq(VF a, VF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)}; }
inline MF neq(VF a, VF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_NEQ_UQ)}; }
inline MF is_nan(VF a) { return {_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)}; }
inline MF mand(MF a, MF b) { return {_mm256_and_ps(a.m, b.m)}; }
inline MF mor(MF a, MF b) { return {_mm256_or_ps(a.m, b.m)}; }
inline MF mnone() { return {_mm256_setzero_ps()}; }
inline MF mnot(MF a) { return {_mm256_xor_ps(a.m, _mm256_castsi256_ps(_mm256_set1_epi32(-1)))}; }
inline MF tail_mask(int n) { return {_mm256_castsi256_ps(first_n(n))}; }  // lanes < n
inline bool any(MF a) { return _mm256_movemask_ps(a.m) != 0; }
inline int first_lane(MF a) { return __builtin_ctz(static_cast<unsigned>(_mm256_movemask_ps(a.m))); }
inline MF lane_mask(int lane) {
  return {_mm256_castsi256_ps(
      _mm256_cmpeq_epi32(_mm256_set1_epi32(lane), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)))};
}
inline MF not_lane_mask(int lane) {
  return {_mm256_xor_ps(lane_mask(lane).m, _mm256_castsi256_ps(_mm256_set1_epi32(-1)))};
}
inline VF select(MF m, VF a, VF b) { return {_mm256_blendv_ps(b.v, a.v, m.m)}; }
inline VF zero_unless(MF m, VF a) { return {_mm256_and_ps(m.m, a.v)}; }

inline float hmax(VF a) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline VF round_nearest(VF a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline VF pow2i(VF n) {
  __m256i i = _mm256_cvtps_epi32(n.v);
  i = _mm256_slli_epi32(_mm256_add_epi32(i, _mm256_set1_epi32(127)), 23);
  return {_mm256_castsi256_ps(i)};
}
// y * 2^n for the exp kernels, with arguments clamped at kExpMinArg = log(FLT_MIN) so that 2^n
// stays normal; results for x below that (subnormal in exact arithmetic) are flushed to 0.
constexpr float kExpMinArg = -87.3365447505531f;
inline VF exp_finish(VF y, VF n, MF in_range) { return zero_unless(in_range, mul(y, pow2i(n))); }
// m ? a + b : a
inline VF add_if(MF m, VF a, VF b) { return add(a, zero_unless(m, b)); }

inline void frexp12(VF x, VF* mant, VF* expo) {
  const __m256i bits = _mm256_castps_si256(x.v);
  const __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
  *expo = {_mm256_cvtepi32_ps(e)};
  *mant = {_mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                                               _mm256_set1_epi32(0x3f800000)))};
}

// Lanes of `a` rearranged: lane i gets a[idx[i]], idx[i] in [0, kLanes).
inline VF permute(VF a, const int32_t* idx) {
  return {_mm256_permutevar8x32_ps(a.v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx)))};
}
// Lane i gets base[idx[i]].
inline VF gather(const float* base, const int32_t* idx) {
  return {_mm256_i32gather_ps(base, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx)), 4)};
}
inline VF int_to_float(const int32_t* p) {
  return {_mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)))};
}

// In-register transpose of the kLanes x kLanes matrix whose row i is r[i]: afterwards r[k] holds
// column k.
inline void transpose(VF r[kLanes]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i].v, r[i + 1].v);
    t[i + 1] = _mm256_unpackhi_ps(r[i].v, r[i + 1].v);
  }
  // u[4g + c], 128-bit lane L: column 4L + c of rows 4g .. 4g + 3.
  for (int g = 0; g < 2; ++g) {
    const __m256 *lo = &t[4 * g], *hi = &t[4 * g + 2];
    u[4 * g + 0] = _mm256_shuffle_ps(lo[0], hi[0], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * g + 1] = _mm256_shuffle_ps(lo[0], hi[0], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * g + 2] = _mm256_shuffle_ps(lo[1], hi[1], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * g + 3] = _mm256_shuffle_ps(lo[1], hi[1], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int c = 0; c < 4; ++c) {
    r[c].v = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c].v = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

struct SumD {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  inline void add(VF a) {
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(a.v)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(a.v, 1)));
  }
  inline double total() const {
    const __m256d s = _mm256_add_pd(lo, hi);
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    t = _mm_add_sd(t, _mm_unpackhi_pd(t, t));
    return _mm_cvtsd_f64(t);
  }
  // The per-lane sums (no horizontal sum), rounded to float.
  inline VF lanes() const {
    return {_mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1)};
  }
};

}  // namespace
}  // namespace avx2
}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_SIMD_AVX2_H_
