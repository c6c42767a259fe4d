#!/usr/bin/env bash
# The login benchmark against another commit's release binary and this tree's, run
# alternately on the same machine, so a change to a hot path shows its cost in one
# command:
#   bash bench/compare.sh REF [connections] [seconds] [rounds]
# REF is any commit (a hash, a tag, HEAD~3). Both binaries are measured with this
# tree's load generator; ROUNDS alternations (default 3) of REF then this tree. The
# last line gives the medians and their ratio (this tree / REF).
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:?usage: bash bench/compare.sh REF [connections] [seconds] [rounds]}
connections=${2:-16}
seconds=${3:-10}
rounds=${4:-3}
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
commit=$(git rev-parse --verify "$ref^{commit}")
short=${commit:0:10}
cargo build --release -q -p passgrid -p login-bench
new_bin="$target/release/passgrid"
bench="$target/release/login-bench"

# REF's binary: built once in a worktree of its own, kept for the next comparison.
ref_dir="$target/compare/$short"
ref_bin="$ref_dir/target/release/passgrid"
if [ ! -x "$ref_bin" ]; then
  rm -rf "$ref_dir/src"
  mkdir -p "$ref_dir"
  git worktree add --detach -f "$ref_dir/src" "$commit" >/dev/null
  trap 'git -C "$root" worktree remove --force "$ref_dir/src" >/dev/null 2>&1 || true' EXIT
  echo "building $short (release) in $ref_dir …"
  (cd "$ref_dir/src" && CARGO_TARGET_DIR="$ref_dir/target" cargo build --release -q -p passgrid)
fi

figures() { sed -n 's/.* \([0-9]*\) rounds\/s, p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1 \2 \3/p'; }
old_runs=(); new_runs=()
for i in $(seq 1 "$rounds"); do
  line=$(bash bench/login_round.sh "$ref_bin" "$bench" sqlite "$connections" "$seconds" | tail -1)
  echo "$short  #$i: $line"; old_runs+=("$(echo "$line" | figures)")
  line=$(bash bench/login_round.sh "$new_bin" "$bench" sqlite "$connections" "$seconds" | tail -1)
  echo "this tree #$i: $line"; new_runs+=("$(echo "$line" | figures)")
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
old_med=$(printf '%s\n' "${old_runs[@]}" | awk '{print $1}' | median)
new_med=$(printf '%s\n' "${new_runs[@]}" | awk '{print $1}' | median)
old_p99=$(printf '%s\n' "${old_runs[@]}" | awk '{print $3}' | median)
new_p99=$(printf '%s\n' "${new_runs[@]}" | awk '{print $3}' | median)
ratio=$(awk -v a="$new_med" -v b="$old_med" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
echo "median rounds/s: $short $old_med (p99 $old_p99 ms), this tree $new_med (p99 $new_p99 ms); ratio $ratio"
