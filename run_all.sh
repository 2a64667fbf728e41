#!/usr/bin/env bash
# Reproduce a track headless: run its numbered notebooks in order with papermill.
# Each executed notebook is kept as a report under reports/<track>/<profile>/ (the .ipynb and an
# HTML copy anyone can open); a failing notebook stops the run and its partly executed copy is
# kept there to show where it failed. At the end of each track reports/index.html links every
# report beside the track's leaderboard, and docs/results-<track>.md is generated from runs/.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: ./run_all.sh [--track chimpact|serengeti|all] [--profile demo|quick|full] [--data DIR]
                    [--seed N] [--workers N] [--scheduler local|tcp://HOST:PORT]
                    [--train-jobs N] [--from NN] [--to NN] [--only NN]

  --track    which track to run (default: all tracks that have notebooks)
  --profile  demo (default): the built-in demo; quick: smallest settings that still run every
             stage; full: the write-up's settings (for real data on a GPU/TPU machine)
  --data     a folder in the competition layout (default: demo data, generated on first use)
  --seed     seed for demo data, folds and training order (default 42)
  --workers  parallel processes for extraction (default: all cores)
  --scheduler where stage 02's items run: local (a Dask LocalCluster on this machine) or
             tcp://HOST:PORT (a Dask cluster; see docs/cluster.md); default: this machine's
             processes, or $CAMTRAP_SCHEDULER
  --train-jobs N  training runs trained at once (default: one per core on the demo and quick
             profiles, whose runs keep about one core busy each; 1 on the full profile);
             with more than one, each run's output goes to its 04_train.log
  --from NN  start at notebook NN (e.g. 02) - earlier stages' outputs are reused
  --to NN    stop after notebook NN (e.g. 03: the data stages only)
  --only NN  run only notebook NN
USAGE
}

track=all profile=demo data="" seed=42 workers=0 train_jobs="" from=00 to=99 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --track) track="${2:?--track needs a value}"; shift 2 ;;
    --profile) profile="${2:?--profile needs a value}"; shift 2 ;;
    --data) data="${2:?--data needs a folder}"; shift 2 ;;
    --seed) seed="${2:?--seed needs a number}"; shift 2 ;;
    --workers) workers="${2:?--workers needs a number}"; shift 2 ;;
    --scheduler) export CAMTRAP_SCHEDULER="${2:?--scheduler needs local or tcp://HOST:PORT}"; shift 2 ;;
    --train-jobs) train_jobs="${2:?--train-jobs needs a number}"; shift 2 ;;
    --from) from="${2:?--from needs a notebook number}"; shift 2 ;;
    --to) to="${2:?--to needs a notebook number}"; shift 2 ;;
    --only) only="${2:?--only needs a notebook number}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_all.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
case "$profile" in demo|quick|full) ;; *) echo "run_all.sh: --profile must be demo, quick or full (got '$profile')" >&2; exit 2 ;; esac
case "$seed$workers$train_jobs" in *[!0-9]*) echo "run_all.sh: --seed, --workers and --train-jobs take whole numbers" >&2; exit 2 ;; esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
if [ -n "$data" ]; then
  [ -d "$data" ] || { echo "run_all.sh: data folder '$data' not found" >&2; exit 2; }
  data="$(cd "$data" && pwd)"
fi

case "$track" in
  all) tracks=""; for t in chimpact serengeti; do [ -d "notebooks/$t" ] && tracks="$tracks $t"; done ;;
  chimpact|serengeti)
    [ -d "notebooks/$track" ] || { echo "run_all.sh: track '$track' has no notebooks yet (notebooks/$track)" >&2; exit 2; }
    tracks="$track" ;;
  *) echo "run_all.sh: --track must be chimpact, serengeti or all (got '$track')" >&2; exit 2 ;;
esac

"$root/scripts/bootstrap.sh"
export PATH="$root/.venv/bin:$PATH"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# TensorFlow's two start-up lines once for the whole run, not twice per notebook
exec 2> >(python -u -m lib.banner_once >&2)
# the python3 kernel papermill starts: this .venv, `lib` importable, no start-up warnings
python -m lib.lab kernel --prefix "${CAMTRAP_VENV:-$root/.venv}"

runs_root="${CAMTRAP_RUNS:-$root/runs}"
reports_root="${CAMTRAP_REPORTS:-$root/reports}"

# execute NOTEBOOK OUTPUT TRACK [extra papermill args...]
execute() {
  local nb="$1" out="$2" t="$3"; shift 3
  echo "== $t/$(basename "$nb") (profile $profile) $* -> $out"
  local start=$SECONDS
  if ! papermill "$nb" "$out" --cwd "notebooks/$t" --kernel python3 \
      -p profile "$profile" -p data_dir "$data" -p seed "$seed" -p workers "$workers" "$@"; then
    python -m lib.reports html "$out" >/dev/null 2>&1 || true
    echo "run_all.sh: $(basename "$nb") failed; the partly executed notebook is $out (and .html)" >&2
    exit 1
  fi
  echo "   done in $((SECONDS - start)) s"
}

# train_runs TRACK NOTEBOOK: every planned run, `jobs` at once; with more than one, each run's
# papermill output goes to its own log and one line says when it ends; after a failure no new
# run starts, the running ones finish (a rerun resumes the rest), and the run fails
train_runs() {
  local t="$1" nb="$2" name jobs run_id pid failed=""
  name="$(basename "$nb")"
  local -a run_ids
  mapfile -t run_ids < <(python -m lib.runs list --track "$t" --profile "$profile")
  jobs="${train_jobs:-$(python -m lib.runs jobs --track "$t" --profile "$profile")}"
  if [ "$jobs" -le 1 ]; then
    for run_id in "${run_ids[@]}"; do
      mkdir -p "$runs_root/$t/$run_id"
      execute "$nb" "$runs_root/$t/$run_id/$name" "$t" -p run_id "$run_id"
    done
    return
  fi
  echo "== $t/$name (profile $profile): ${#run_ids[@]} runs, $jobs at a time; each run's output in $runs_root/$t/<run>/${name%.ipynb}.log"
  local -A running=()
  local start=$SECONDS ended=0
  for run_id in "${run_ids[@]}" ""; do
    while [ "${#running[@]}" -ge "$jobs" ] || { [ -z "$run_id" ] && [ "${#running[@]}" -gt 0 ]; }; do
      local status=0
      wait -n -p "pid" "${!running[@]}" || status=$?
      ended=$((ended + 1))
      if [ "$status" -eq 0 ]; then
        echo "   [$ended/${#run_ids[@]}] ${running[$pid]} done ($((SECONDS - start)) s in)"
      else
        echo "run_all.sh: ${running[$pid]} failed; see $runs_root/$t/${running[$pid]}/${name%.ipynb}.log" >&2
        failed=1
      fi
      unset "running[$pid]"
    done
    [ -z "$run_id" ] || [ -n "$failed" ] && continue
    mkdir -p "$runs_root/$t/$run_id"
    execute "$nb" "$runs_root/$t/$run_id/$name" "$t" -p run_id "$run_id" \
      >"$runs_root/$t/$run_id/${name%.ipynb}.log" 2>&1 &
    running[$!]="$run_id"
  done
  [ -z "$failed" ] || exit 1
  echo "   all ${#run_ids[@]} runs done in $((SECONDS - start)) s"
}

start_all=$SECONDS
for t in $tracks; do
  out_dir="$reports_root/$t/$profile"
  mkdir -p "$out_dir"
  for nb in notebooks/"$t"/[0-9][0-9]_*.ipynb; do
    name="$(basename "$nb")"
    num="${name:0:2}"
    if [ -n "$only" ]; then [ "$num" = "$only" ] || continue
    elif [[ "$num" < "$from" || "$num" > "$to" ]]; then continue; fi
    if [ "$name" = "04_train.ipynb" ]; then
      # one papermill run per run ID; the executed notebook lands in the run's own folder
      train_runs "$t" "$nb"
    else
      execute "$nb" "$out_dir/$name" "$t"
    fi
  done
  python -m lib.reports track --track "$t"
  if [ -f "$runs_root/$t/summary.json" ]; then
    # the published pages and the README's tables come from the demo as shipped; any other run's
    # pages are written beside its runs
    if [ "$profile" = demo ] && [ -z "$data" ] && [ "$seed" = 42 ]; then
      python -m lib.results --track "$t" --readme README.md
    else
      python -m lib.results --track "$t" --out "$runs_root/$t"
    fi
  fi
done
echo "run_all.sh: finished in $((SECONDS - start_all)) s; open $reports_root/index.html"
