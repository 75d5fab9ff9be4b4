// Portable primitives for kernels/kernel_bodies.h: 4 float lanes as GCC/Clang vector extensions, which the
// compiler lowers to SSE2, NEON, or scalar code as the target allows; no intrinsics, no target
// flags. Included only by kernels_generic.cc; internal linkage inside the ISA namespace.
#ifndef TFJS_FOCAL_LOSS_SIMD_GENERIC_H_
#define TFJS_FOCAL_LOSS_SIMD_GENERIC_H_

#include <stdint.h>

namespace focal {
namespace detail {
namespace generic {
namespace {

constexpr int kLanes = 4;
typedef float F4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));

struct VF {
  F4 v;
};
struct MF {
  I4 m;  // lanes are 0 or -1
};

inline VF loadu(const float* p) {
  VF r;
  __builtin_memcpy(&r.v, p, sizeof r.v);
  return r;
}
inline VF load_partial(const float* p, int n, float fill) {
  VF r = {F4{fill, fill, fill, fill}};
  for (int i = 0; i < n; ++i) r.v[i] = p[i];
  return r;
}
inline void storeu(float* p, VF a) { __builtin_memcpy(p, &a.v, sizeof a.v); }
inline void store_partial(float* p, VF a, int n) {
  for (int i = 0; i < n; ++i) p[i] = a.v[i];
}

inline VF set1(float x) { return {F4{x, x, x, x}}; }
inline VF add(VF a, VF b) { return {a.v + b.v}; }
inline VF sub(VF a, VF b) { return {a.v - b.v}; }
inline VF mul(VF a, VF b) { return {a.v * b.v}; }
inline VF div(VF a, VF b) { return {a.v / b.v}; }
// Written unfused; whether it is fused is the compiler's choice for the target (GCC contracts
// a*b+c by default, -ffp-contract=fast, even with -std=c++17): on x86-64 without -mfma there is
// no FMA to contract to (the generic build may run on CPUs without it), on aarch64 GCC emits fmla.
// Results differ from the FMA builds by rounding only.
inline VF fma(VF a, VF b, VF c) { return {a.v * b.v + c.v}; }
inline VF fnma(VF a, VF b, VF c) { return {c.v - a.v * b.v}; }

inline VF select(MF m, VF a, VF b) {  // m ? a : b
  return {reinterpret_cast<F4>((reinterpret_cast<I4>(a.v) & m.m) | (reinterpret_cast<I4>(b.v) & ~m.m))};
}
inline VF zero_unless(MF m, VF a) { return {reinterpret_cast<F4>(reinterpret_cast<I4>(a.v) & m.m)}; }

inline MF lt(VF a, VF b) { return {a.v < b.v}; }
inline MF nlt(VF a, VF b) { return {~(a.v < b.v)}; }  // !(a < b), true if unordered
inline MF le(VF a, VF b) { return {a.v <= b.v}; }
inline MF gt(VF a, VF b) { return {a.v > b.v}; }
inline MF eq(VF a, VF b) { return {a.v == b.v}; }
inline MF neq(VF a, VF b) { return {~(a.v == b.v)}; }
inline MF is_nan(VF a) { return {a.v != a.v}; }
inline MF mand(MF a, MF b) { return {a.m & b.m}; }
inline MF mor(MF a, MF b) { return {a.m | b.m}; }
inline MF mnone() { return {I4{0, 0, 0, 0}}; }
inline MF mnot(MF a) { return {~a.m}; }
inline MF tail_mask(int n) { return {I4{0, 1, 2, 3} < I4{n, n, n, n}}; }  // lanes < n
inline bool any(MF a) { return (a.m[0] | a.m[1] | a.m[2] | a.m[3]) != 0; }
inline int first_lane(MF a) {
  for (int i = 0; i < kLanes; ++i)
    if (a.m[i]) return i;
  return kLanes;
}
inline MF lane_mask(int lane) { return {I4{0, 1, 2, 3} == I4{lane, lane, lane, lane}}; }
inline MF not_lane_mask(int lane) { return {I4{0, 1, 2, 3} != I4{lane, lane, lane, lane}}; }

// Same NaN behaviour as x86 maxps/minps: the second operand when either is NaN.
inline VF max(VF a, VF b) { return select(gt(a, b), a, b); }
inline VF min(VF a, VF b) { return select(lt(a, b), a, b); }

inline VF sqrt(VF a) {
  VF r;
  for (int i = 0; i < kLanes; ++i) r.v[i] = __builtin_sqrtf(a.v[i]);
  return r;
}
inline VF abs(VF a) { return {reinterpret_cast<F4>(reinterpret_cast<I4>(a.v) & 0x7fffffff)}; }

inline float hmax(VF a) {
  const float x = a.v[0] > a.v[1] ? a.v[0] : a.v[1];
  const float y = a.v[2] > a.v[3] ? a.v[2] : a.v[3];
  return x > y ? x : y;
}

// Round to nearest (ties to even) for |a| < 2^22: adding and subtracting 1.5 * 2^23 (kept as is
// under IEEE semantics, i.e. without -ffast-math).
inline VF round_nearest(VF a) {
  const F4 magic = {12582912.0f, 12582912.0f, 12582912.0f, 12582912.0f};
  return {(a.v + magic) - magic};
}
// 2^n for integral n in [-126, 127].
inline VF pow2i(VF n) {
  const I4 i = __builtin_convertvector(n.v, I4);
  return {reinterpret_cast<F4>((i + 127) << 23)};
}
// y * 2^n for the exp kernels, with arguments clamped at kExpMinArg = log(FLT_MIN) so that 2^n
// stays normal; results for x below that (subnormal in exact arithmetic) are flushed to 0.
constexpr float kExpMinArg = -87.3365447505531f;
inline VF exp_finish(VF y, VF n, MF in_range) { return zero_unless(in_range, mul(y, pow2i(n))); }
// m ? a + b : a
inline VF add_if(MF m, VF a, VF b) { return add(a, zero_unless(m, b)); }

inline void frexp12(VF x, VF* mant, VF* expo) {
  const I4 bits = reinterpret_cast<I4>(x.v);
  expo->v = __builtin_convertvector(((bits >> 23) & 0xff) - 127, F4);
  mant->v = reinterpret_cast<F4>((bits & 0x007fffff) | 0x3f800000);
}

// Lanes of `a` rearranged: lane i gets a[idx[i]], idx[i] in [0, kLanes).
inline VF permute(VF a, const int32_t* idx) {
  VF r;
  for (int i = 0; i < kLanes; ++i) r.v[i] = a.v[idx[i]];
  return r;
}
// Lane i gets base[idx[i]].
inline VF gather(const float* base, const int32_t* idx) {
  VF r;
  for (int i = 0; i < kLanes; ++i) r.v[i] = base[idx[i]];
  return r;
}
inline VF int_to_float(const int32_t* p) {
  VF r;
  for (int i = 0; i < kLanes; ++i) r.v[i] = static_cast<float>(p[i]);
  return r;
}

// In-register transpose of the kLanes x kLanes matrix whose row i is r[i]: afterwards r[k] holds
// column k.
inline void transpose(VF r[kLanes]) {
  VF c[kLanes];
  for (int k = 0; k < kLanes; ++k)
    for (int i = 0; i < kLanes; ++i) c[k].v[i] = r[i].v[k];
  for (int k = 0; k < kLanes; ++k) r[k] = c[k];
}

struct SumD {
  double s[kLanes] = {0, 0, 0, 0};
  inline void add(VF a) {
    for (int i = 0; i < kLanes; ++i) s[i] += a.v[i];
  }
  inline double total() const { return (s[0] + s[1]) + (s[2] + s[3]); }
  // The per-lane sums (no horizontal sum), rounded to float.
  inline VF lanes() const {
    VF r;
    for (int i = 0; i < kLanes; ++i) r.v[i] = static_cast<float>(s[i]);
    return r;
  }
};

}  // namespace
}  // namespace generic
}  // namespace detail
}  // namespace focal

#endif  // TFJS_FOCAL_LOSS_SIMD_GENERIC_H_
