// Linked into the prebuilt addon only (scripts/prebuild.js), so that one binary built on a new
// distribution loads on old ones. A shared object records, for each glibc function it calls, the
// symbol version the build machine's glibc marks as default (pthread_create@GLIBC_2.34 on glibc
// >= 2.34, exp@GLIBC_2.29, ...), and the dynamic loader refuses the file where that version is
// missing. The link wraps those calls (-Wl,--wrap=NAME sends every reference, including those from
// the statically linked libstdc++, to __wrap_NAME) and each wrapper calls the oldest version of
// the same function that glibc still exports for the architecture (.symver; FOCAL_GLIBC_BASE): the
// same code on a new glibc, the only one on an old glibc. The few functions old glibc has no
// version of are provided here.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

// The first symbol version of each architecture's glibc: every function below has it there.
#if defined(__x86_64__)
#define FOCAL_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define FOCAL_GLIBC_BASE "GLIBC_2.17"
#else
#error "glibc_compat.cc: add this architecture's first glibc symbol version (objdump -T libc.so.6)"
#endif

#define FOCAL_OLD_VERSION(name) __asm__(".symver focal_old_" #name ", " #name "@" FOCAL_GLIBC_BASE)

extern "C" {

FOCAL_OLD_VERSION(pthread_create);
FOCAL_OLD_VERSION(pthread_join);
FOCAL_OLD_VERSION(pthread_detach);
FOCAL_OLD_VERSION(pthread_once);
FOCAL_OLD_VERSION(pthread_key_create);
FOCAL_OLD_VERSION(pthread_key_delete);
FOCAL_OLD_VERSION(pthread_getspecific);
FOCAL_OLD_VERSION(pthread_setspecific);
FOCAL_OLD_VERSION(pthread_mutex_trylock);
FOCAL_OLD_VERSION(dlopen);
FOCAL_OLD_VERSION(dlsym);
FOCAL_OLD_VERSION(exp);
FOCAL_OLD_VERSION(log);
FOCAL_OLD_VERSION(pow);
FOCAL_OLD_VERSION(memcpy);

int focal_old_pthread_create(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
int focal_old_pthread_join(pthread_t, void**);
int focal_old_pthread_detach(pthread_t);
int focal_old_pthread_once(pthread_once_t*, void (*)(void));
int focal_old_pthread_key_create(pthread_key_t*, void (*)(void*));
int focal_old_pthread_key_delete(pthread_key_t);
void* focal_old_pthread_getspecific(pthread_key_t);
int focal_old_pthread_setspecific(pthread_key_t, const void*);
int focal_old_pthread_mutex_trylock(pthread_mutex_t*);
void* focal_old_dlopen(const char*, int);
void* focal_old_dlsym(void*, const char*);
double focal_old_exp(double);
double focal_old_log(double);
double focal_old_pow(double, double);
void* focal_old_memcpy(void*, const void*, size_t);

#define V __attribute__((visibility("hidden")))

V int __wrap_pthread_create(pthread_t* t, const pthread_attr_t* a, void* (*f)(void*), void* arg) {
  return focal_old_pthread_create(t, a, f, arg);
}
V int __wrap_pthread_join(pthread_t t, void** r) { return focal_old_pthread_join(t, r); }
V int __wrap_pthread_detach(pthread_t t) { return focal_old_pthread_detach(t); }
V int __wrap_pthread_once(pthread_once_t* o, void (*f)(void)) { return focal_old_pthread_once(o, f); }
V int __wrap_pthread_key_create(pthread_key_t* k, void (*d)(void*)) {
  return focal_old_pthread_key_create(k, d);
}
// libstdc++ calls this alias (weakly, to test whether threads are linked in).
V int __wrap___pthread_key_create(pthread_key_t* k, void (*d)(void*)) {
  return focal_old_pthread_key_create(k, d);
}
V int __wrap_pthread_key_delete(pthread_key_t k) { return focal_old_pthread_key_delete(k); }
V void* __wrap_pthread_getspecific(pthread_key_t k) { return focal_old_pthread_getspecific(k); }
V int __wrap_pthread_setspecific(pthread_key_t k, const void* v) {
  return focal_old_pthread_setspecific(k, v);
}
V int __wrap_pthread_mutex_trylock(pthread_mutex_t* m) { return focal_old_pthread_mutex_trylock(m); }
V void* __wrap_dlopen(const char* file, int mode) { return focal_old_dlopen(file, mode); }
V void* __wrap_dlsym(void* handle, const char* name) { return focal_old_dlsym(handle, name); }
V double __wrap_exp(double x) { return focal_old_exp(x); }
V double __wrap_log(double x) { return focal_old_log(x); }
V double __wrap_pow(double x, double y) { return focal_old_pow(x, y); }
V void* __wrap_memcpy(void* d, const void* s, size_t n) { return focal_old_memcpy(d, s, n); }

// std::random_device (in the static libstdc++, never used by the addon) asks for these; glibc
// before 2.25 / 2.36 has neither. Both read the kernel's random source.
static int read_urandom(void* buffer, size_t length) {
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  unsigned char* out = static_cast<unsigned char*>(buffer);
  while (length > 0) {
    ssize_t n = read(fd, out, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { close(fd); return -1; }
    out += n;
    length -= static_cast<size_t>(n);
  }
  close(fd);
  return 0;
}
V int __wrap_getentropy(void* buffer, size_t length) {
  if (length > 256) { errno = EIO; return -1; }
  return read_urandom(buffer, length);
}
V uint32_t __wrap_arc4random(void) {
  uint32_t value = 0;
  if (read_urandom(&value, sizeof value) != 0) __builtin_trap();
  return value;
}

// libstdc++ reads this (glibc >= 2.32) to skip atomic reference counting in single-threaded
// programs. Defined here, the reference binds to this copy: 0 = "maybe multi-threaded", always
// correct (the addon runs worker threads anyway).
V char __libc_single_threaded = 0;

}  // extern "C"
