# Sourced by ./whet and ./test: finds a JDK >= 21 and sets the native threading environment.
# Kept in one place so the launcher, the tests and CI agree.

java_major() { # prints the major version of the java binary $1, or nothing
  "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

find_jdk() { # sets JAVA_HOME to a JDK >= 21 (with javac), or fails with a message
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  local javac_path
  javac_path=$(command -v javac 2>/dev/null) && candidates+=("$(dirname "$(dirname "$(readlink -f "$javac_path")")")")
  for d in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$d" ] && candidates+=("$d")
  done
  local best="" best_version=0 v
  for d in "${candidates[@]}"; do
    [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] || continue
    v=$(java_major "$d/bin/java")
    [ -n "$v" ] && [ "$v" -ge 21 ] || continue
    # JAVA_HOME wins when it qualifies; otherwise take the newest.
    if [ "$d" = "${JAVA_HOME:-}" ]; then best="$d"; break; fi
    if [ "$v" -gt "$best_version" ]; then best="$d"; best_version="$v"; fi
  done
  if [ -z "$best" ]; then
    echo "whet: no JDK 21 or newer found (looked at JAVA_HOME, the PATH and /usr/lib/jvm, /opt)." >&2
    echo "whet: install one (e.g. apt-get install openjdk-21-jdk) or point JAVA_HOME at it." >&2
    return 1
  fi
  export JAVA_HOME="$best"
}

# libtorch's OpenMP workers spin after each parallel region and fight OpenBLAS's threads for the cores;
# passive waiting made small ops 10x faster here (DESIGN.md, engine notes). Read when the natives load.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
# OpenBLAS's GEMM worker likewise spins for up to 2^28 cycles (~0.1 s) after each multiply before it sleeps,
# taking a core from libtorch's OpenMP worker in the elementwise ops between GEMMs; 4 means 2^4 cycles.
# Training step, 2-core AVX2 VM, alternating runs: 5,578 / 6,259 / 6,328 ms with it, 6,907 / 6,641 without.
export OPENBLAS_THREAD_TIMEOUT="${OPENBLAS_THREAD_TIMEOUT:-4}"
# glibc returns every freed block above 128 KiB-32 MiB to the kernel (mmap/munmap, then heap trims), so each
# training step's activations are faulted in and zeroed afresh: about 30% of the step's CPU time was in the
# kernel. Keeping freed memory in the heap (blocks up to 32 MiB, glibc's ceiling for the threshold; no trim;
# 256 MiB grown at a time) took a bf16 training step from ~1,070 to ~700 ms and fp32 from ~2,300 to ~2,000 ms
# (2-core native-bf16 EPYC, docs/benchmarks.md). The cost: the process keeps its peak memory until it exits.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4294967296}"
export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-268435456}"
