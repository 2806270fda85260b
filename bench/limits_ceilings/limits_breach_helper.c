/* limits_breach_helper CEILING_MB STAMP_FILE [MAX_MB]
 *
 * The payload of bench/limits_ceilings/limits_breach.sh: allocates and touches memory 1 MiB
 * at a time (1 ms apart once past the ceiling, so a watchdog has something to catch) and
 * keeps, in a MAP_SHARED file that outlives it, "cross_ns last_ns mb": when its allocation
 * first reached CEILING_MB (0 if never), the last moment it was alive, and how far it got.
 * The ceiling kill ends it; the benchmark compares these times with guardian's event log. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: limits_breach_helper CEILING_MB STAMP_FILE [MAX_MB]\n");
    return 2;
  }
  long ceiling_mb = atol(argv[1]);
  long max_mb = argc > 3 ? atol(argv[3]) : 4 * ceiling_mb;
  int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ftruncate(fd, 64) != 0) return 3;
  char* stamp = mmap(NULL, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (stamp == MAP_FAILED) return 3;
  uint64_t cross = 0;
  long page = sysconf(_SC_PAGESIZE);
  for (long mb = 1; mb <= max_mb; ++mb) {
    char* chunk = malloc(1 << 20);
    if (!chunk) return 4;
    for (long off = 0; off < (1 << 20); off += page) chunk[off] = (char)mb;
    uint64_t t = now_ns();
    if (!cross && mb >= ceiling_mb) cross = t;
    snprintf(stamp, 64, "%020llu %020llu %06ld\n", (unsigned long long)cross, (unsigned long long)t, mb);
    if (cross) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
  return 0; /* not killed: the ceiling did not hold */
}
