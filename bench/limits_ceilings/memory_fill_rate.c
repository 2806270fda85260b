/* memory_fill_rate [MIB] [ROUNDS]
 *
 * The fastest one thread can grow its resident memory: maps MIB MiB (default 512) and
 * touches one byte per page, ROUNDS times (default 5), printing the best rate in MiB/s.
 * The watchdog's adaptive cadence (guardian/limits/watchdog_cadence.cpp) assumes every CPU
 * of the machine can fill memory this fast at once; this is where its constant comes from. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 512;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  long page = sysconf(_SC_PAGESIZE);
  double best = 0;
  for (int r = 0; r < rounds; ++r) {
    size_t bytes = mib << 20;
    char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    double t0 = now_s();
    for (size_t off = 0; off < bytes; off += (size_t)page) p[off] = 1;
    double rate = (double)mib / (now_s() - t0);
    if (rate > best) best = rate;
    munmap(p, bytes);
  }
  printf("%.0f MiB/s\n", best);
  return 0;
}
