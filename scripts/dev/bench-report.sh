#!/usr/bin/env bash
# Markdown for the README's Performance section from what `scripts/bench.sh all` writes to its
# $BENCH_OUT: for each group a `###` heading and a table with a before and an after column
# (and after/before where a ratio means something), rows joined by what they measure (the
# datapath's hook + path, live's configuration, control's series, ...), so that a run is
# compared with another without copying figures by hand.
#
#   scripts/dev/bench-report.sh --after DIR [--before DIR] [--before-label TEXT] [--after-label TEXT]
#
# DIR holds one run: bench-datapath.json, <group>.json (live, scale, scale-64k-machines,
# attach, control, restart, drift, fleet) and bench-fuzz.txt. Labels default to the
# directories' names. Every file is read and checked before anything is printed: a malformed
# one stops the report (exit 1, naming the file) rather than leaving a table out. Older builds
# (e.g. 6e986a1) wrote fewer groups, rows and fields: what a run lacks prints "-", and the
# groups the after run lacks are listed at the end as not run. bash and jq only.
set -euo pipefail

PROG=scripts/dev/bench-report.sh
# In the order scripts/bench.sh runs them; scale-64k-machines is scale.sh's second run.
SECTIONS=(datapath live scale scale-64k-machines attach control restart drift fleet fuzz)
SECTIONS_JSON="[$(printf '"%s",' "${SECTIONS[@]}" | sed 's/,$//')]"

usage() {
  echo "usage: $PROG --after DIR [--before DIR] [--before-label TEXT] [--after-label TEXT]" >&2
}

die() {
  echo "$PROG: $*" >&2
  exit 1
}

# section_file SECTION: the file scripts/bench.sh writes for it.
section_file() {
  case $1 in
    datapath) echo bench-datapath.json ;;
    fuzz) echo bench-fuzz.txt ;;
    *) echo "$1.json" ;;
  esac
}

# section_shape SECTION: a jq test a document of that section passes (its rows are what the
# tables are joined on; the rest may be missing and prints "-").
section_shape() {
  local rows='.results | type == "array"'
  case $1 in
    datapath | scale | scale-64k-machines)
      echo "$rows and all(.[]; (.hook | type) == \"string\" and (.path | type) == \"string\")" ;;
    live) echo "$rows and all(.[]; .configuration | type == \"string\")" ;;
    control) echo "$rows and all(.[]; .series | type == \"string\")" ;;
    *) echo 'type == "object"' ;;
  esac
}

# fuzz_json FILE: model_fuzz's summary (tests/model/differential.cpp, summarize) as JSON; fails
# when the file has no summary line.
fuzz_json() {
  jq -R -s -e 'capture("(?<frames>[0-9]+) frames in (?<seconds>[0-9.e+-]+) s \\((?<frames_per_second>[0-9]+) frames/s[^)]*\\), (?<disagreements>[0-9]+) disagreement")
    | map_values(tonumber)' "$1" 2>/dev/null
}

# load_section DIR SECTION OUT: the section's document into OUT, null when DIR has no file for
# it; exits on a file that cannot be read or is not what its writer writes. One jq per file.
load_section() {
  local file shape doc
  file="$1/$(section_file "$2")"
  [ -e "$file" ] || { echo null >"$3"; return; }
  [ -r "$file" ] || die "$file: cannot read"
  if [ "$2" = fuzz ]; then
    fuzz_json "$file" >"$3" || die "$file: no 'N frames in S s (F frames/s ...), D disagreement(s)' line"
    return
  fi
  # One JSON object (an empty file or a truncated write is malformed too) of the writer's shape;
  # a string out of jq is what is wrong with it.
  shape=$(section_shape "$2")
  doc=$(jq -s -c --arg bad "not a $2 result (expected: $shape)" \
    "if length != 1 or (.[0] | type) != \"object\" then \"malformed JSON (expected one JSON object)\"
     elif .[0] | $shape then .[0] else \$bad end" "$file" 2>&1) || die "$file: malformed JSON: $doc"
  [[ $doc != \"* ]] || die "$file: $(jq -r . <<<"$doc")"
  printf '%s\n' "$doc" >"$3"
}

# load_run DIR OUT: every section of DIR into one JSON object {section: document or null}.
load_run() {
  local section files=()
  for section in "${SECTIONS[@]}"; do
    load_section "$1" "$section" "$2.$section"
    files+=("$2.$section")
  done
  jq -s -c --argjson names "$SECTIONS_JSON" \
    '[$names, .] | transpose | map({key: .[0], value: .[1]}) | from_entries' "${files[@]}" >"$2"
}

# has_results DIR: DIR holds the file of at least one section.
has_results() {
  local section
  for section in "${SECTIONS[@]}"; do
    if [ -e "$1/$(section_file "$section")" ]; then return 0; fi
  done
  return 1
}

# check_dir OPTION DIR: DIR exists and can be listed and read.
check_dir() {
  [ -d "$2" ] || die "$1 $2: no such directory"
  { [ -r "$2" ] && [ -x "$2" ]; } || die "$1 $2: cannot read the directory"
}

# The report itself, in jq: $R = {before: {section: doc|null} ({} without --before), after: {...}};
# $bl, $al the labels. Cells are strings; "-" stands for a missing run, row or field.
# shellcheck disable=SC2016 # jq's $variables, not the shell's
REPORT_JQ='
def fixed($d):
  if type != "number" then "-"
  elif $d == 0 then round | tostring
  else ((. * pow(10; $d)) | round) as $n
    | ($n | fabs | tostring) as $s
    | (if ($s | length) <= $d then "0" * ($d + 1 - ($s | length)) + $s else $s end) as $p
    | (if $n < 0 then "-" else "" end) + $p[:-$d] + "." + $p[-$d:]
  end;
def short: if type == "number" then . * 100 | round / 100 | tostring else "-" end;
def first_load: if type == "string" then split(" ")[0] else "-" end;
def paren($main; $inner):
  if $main == "-" then "-" elif $inner == "-" then $main else "\($main) (\($inner))" end;
def ratio($before; $after):
  if ($before | type) == "number" and ($after | type) == "number" and $before != 0
  then $after / $before | fixed(2) else "-" end;
def median: map(select(type == "number")) | if length == 0 then null else sort | .[length / 2 | floor] end;
def met($ok): if $ok == null then "" elif $ok then ": met" else ": missed" end;

def md_row: "| " + (map(tostring | split("|") | join("\\|")) | join(" | ")) + " |";
def table($header; $lines): ($header | md_row), ("|" + ("---|" * ($header | length))), ($lines[] | md_row);

# Rows are {key, cols, cell, num, extra}: joined by key, the after run'"'"'s order first, then the
# rows only the before run has; num (null: no ratio) makes the after/before column.
def joined($brows; $arows; $with_ratio):
  ($brows | map({key, value: .}) | from_entries) as $bi
  | ($arows | map({key, value: .}) | from_entries) as $ai
  | ($arows + ($brows | map(select($ai[.key] == null))))
  | map($bi[.key] as $x | $ai[.key] as $y
        | .cols + [($x.cell // "-"), ($y.cell // "-")]
          + (if $with_ratio then [ratio($x.num; $y.num)] else [] end)
          + (($y // $x).extra // []));
def rows_of(f): if . == null then [] else f end;
def side_table($s; $cols; $what; $ratio; $extra; rows):
  ($R.before[$s] | rows_of(rows)) as $b | ($R.after[$s] | rows_of(rows)) as $a
  | table($cols + ([$bl, $al] | map(if $what == "" then . else "\(.) \($what)" end)) + (if $ratio then ["after/before"] else [] end) + $extra;
          joined($b; $a; $ratio));
# A measure per row: measure | before | after | after/before [| target].
def kv($measure; $v; $d; $with_ratio): {key: $measure, cols: [$measure], cell: ($v | fixed($d)), num: (if $with_ratio then $v else null end)};
def kv($measure; $v; $d; $with_ratio; $target): kv($measure; $v; $d; $with_ratio) + {extra: [$target]};
def kv_table($s; rows): side_table($s; ["measure"]; ""; true; []; rows);
def kv_table_target($s; rows): side_table($s; ["measure"]; ""; true; ["target"]; rows);
def both($s; f): "\($bl): \($R.before[$s] | if . == null then "-" else f end); \($al): \($R.after[$s] | f)";

# datapath (tests/bench/datapath_bench.cpp): ratio and worst are absent in older files; the
# references[] of later builds are shown when either run has them.
def dp_ratio:
  if (.ratio | type) == "number" then .ratio
  elif (.ns_per_packet | type) == "number" and (.floor_ns_per_packet | type) == "number" and .floor_ns_per_packet != 0
  then .ns_per_packet / .floor_ns_per_packet else null end;
def dp_cell: paren(.ns_per_packet | fixed(1); dp_ratio | fixed(2));
def dp_target:
  if (.target_ratio | type) != "number" then "-"
  else "≤ \(.target_ratio | short)×" + met(if (.within_target | type) == "boolean" then .within_target
                                           elif dp_ratio == null then null else dp_ratio <= .target_ratio end)
  end;
def datapath:
  "Per packet, `BPF_PROG_TEST_RUN`, against an XDP_PASS (machine_egress) or TC_ACT_OK program of the same run: ns (×floor).",
  "Runs: " + both("datapath"; "\(.repeat // "-") repeats, median of \(.trials // "-") trials, CPU \(.cpu // "-")") + ".",
  "",
  side_table("datapath"; ["hook", "path"]; "ns (×floor)"; true; ["target"];
    .results | map({key: "\(.hook)/\(.path)", cols: [.hook, .path], cell: dp_cell, num: .ns_per_packet, extra: [dp_target]})),
  "",
  "Worst ratio to the floor: " + both("datapath"; .worst | if (.ratio | type) == "number" then "\(.ratio | fixed(2))× (\(.path))" else "-" end) + ".",
  (if ([$R.before.datapath.references, $R.after.datapath.references | arrays | length] | add // 0) > 0 then
    "",
    "References (part of a path'"'"'s work, done as cheaply as it can be):",
    "",
    side_table("datapath"; ["hook", "reference"]; "ns (×floor)"; true; [];
      (.references // []) | map({key: "\(.hook)/\(.reference)", cols: [.hook, .reference], cell: dp_cell, num: .ns_per_packet}))
   else empty end);

# live (tests/bench/live_bench.cpp): results, comparisons, same_network_pass (null when a run
# left out one of its two configurations).
def live:
  "Runs: " + both("live"; "\(.frame_bytes // "-")-byte frames, median of \(.rounds // "-") rounds of \(.seconds_per_round // "-") s") + ".",
  "",
  side_table("live"; ["configuration", "traffic"]; "Mpps (ns/pkt)"; true; [];
    .results | map({key: .configuration, cols: [.configuration, (.traffic // "-")],
                    cell: paren(.rx_mpps | fixed(2); .rx_ns_per_packet | fixed(1)), num: .rx_mpps})),
  "",
  side_table("live"; ["comparison"]; "rate (capacity)"; false; ["target"];
    (.comparisons // []) | map({key: .comparison, cols: [.comparison],
      cell: paren(.rate_ratio | fixed(2) | if . == "-" then . else . + "×" end;
                  .capacity_ratio | fixed(2) | if . == "-" then . else . + "×" end),
      extra: [if (.target | type) == "number" then "rate ≥ \(.target | short)×" + met(.rate_meets_target) else "-" end]})),
  (if [$R.before.live.same_network_pass, $R.after.live.same_network_pass | objects] | length > 0 then
    "",
    kv_table("live"; .same_network_pass | rows_of([
      kv("same-network pass: the stack alone, ns/pkt"; .stack_ns_per_packet; 1; true),
      kv("same-network pass: added by sixguard, ns/pkt"; .added_ns_per_packet; 1; true),
      kv("same-network pass: added, % of the stack"; .added_percent_of_stack; 1; true)]))
   else empty end),
  (if ([$R.before.live.program_cost, $R.after.live.program_cost | arrays | length] | add // 0) > 0 then
    "",
    "The program alone on live frames (kernel run-time statistics, their own clock reads included):",
    "",
    side_table("live"; ["configuration"]; "ns/run"; true; [];
      (.program_cost // []) | map({key: .configuration, cols: [.configuration], cell: (.ns_per_run | fixed(1)), num: .ns_per_run}))
   else empty end);

# scale and scale-64k-machines (tests/bench/scale_bench.cpp): a row per case and Flycast level,
# then the case'"'"'s largest/smallest ratio (raw, and relative to each level'"'"'s floor).
def scale($s):
  "Runs: " + both($s; "\(.machines // "-") machines, \(.networks // "-") networks; \(.rounds // "-") rounds × \(.trials // "-") trials × \(.repeat // "-") runs") + ".",
  "",
  side_table($s; ["hook", "path", "Flycast entries"]; "ns (×floor)"; true; [];
    .results | map(. as $c
      | ((.levels // []) | map({key: "\($c.hook)/\($c.path)/\(.flycast_entries)", cols: [$c.hook, $c.path, .flycast_entries],
                                cell: paren(.ns_per_packet | fixed(1); .ratio_to_floor | fixed(2)), num: .ns_per_packet}))
        + [{key: "\(.hook)/\(.path)/slope", cols: [.hook, .path, "largest / smallest"],
            cell: paren(.ratio_largest_to_smallest | fixed(2); .floor_relative_ratio_largest_to_smallest | fixed(2) | if . == "-" then . else "rel. floor " + . end)}])
    | add // []),
  "",
  "Map memory (the kernel'"'"'s memlock): sg_flycast per entry added between levels, the others memlock / entries.",
  "",
  side_table($s; ["map", "entries"]; "B/entry (memlock B)"; true; [];
    (.memory // []) | map({key: "\(.map)/\(.entries)", cols: [.map, .entries],
      cell: ((.memlock_bytes | fixed(0)) as $memlock | (.marginal_bytes_per_entry // .bytes_per_entry_all_in | fixed(1))
             | if $memlock == "-" then . else "\(.) (\($memlock))" end),
      num: (.marginal_bytes_per_entry // .bytes_per_entry_all_in)}));

# attach (control_bench attach, via scripts/bench/attach.sh).
def attach:
  kv_table_target("attach"; [
    kv("machines already attached"; .machines; 0; false; "-"),
    kv("seconds to start and attach them"; .fill_seconds; 1; true; "-"),
    kv("new machines, one request each"; .samples; 0; false; "-"),
    kv("request → entry + program attached, p50 ms"; .p50_ms; 2; true; "-"),
    kv("request → entry + program attached, p99 ms"; .p99_ms; 2; true;
       if (.target_p99_ms | type) == "number" then "< \(.target_p99_ms | short) ms" + met(if (.p99_ms | type) == "number" then .p99_ms < .target_p99_ms else null end) else "-" end),
    kv("request → entry + program attached, max ms"; .max_ms; 2; true; "-")]);

# control (control_bench run, via scripts/bench/control.sh).
def control_target:
  if (.target_events_per_sec | type) == "number" then "≥ \(.target_events_per_sec | fixed(0)) events/s" + met(.meets_target)
  elif (.target_p99_ms | type) == "number" then "p99 < \(.target_p99_ms | short) ms" + met(.meets_target)
  else "-" end;
def control:
  side_table("control"; ["series"]; "events/s (p50 / p99 ms)"; true; ["target"];
    .results | map({key: .series, cols: [.series],
      cell: paren(.events_per_sec | fixed(0); "\(.request_p50_ms | fixed(2)) / \(.request_p99_ms | fixed(2))"),
      num: .events_per_sec, extra: [control_target]})),
  "",
  kv_table("control"; [
    kv("agent RSS, empty, MiB"; .rss_kb_empty | if type == "number" then . / 1024 else null end; 1; true),
    kv("agent RSS, full, MiB"; .rss_kb_full | if type == "number" then . / 1024 else null end; 1; true),
    kv("machines + Flycast addresses in state"; if (.machines | type) == "number" and (.flycast | type) == "number" then .machines + .flycast else null end; 0; false),
    kv("bytes per entry"; if ([.rss_kb_empty, .rss_kb_full, .machines, .flycast] | all(type == "number")) and .machines + .flycast > 0
                          then (.rss_kb_full - .rss_kb_empty) * 1024 / (.machines + .flycast) else null end; 0; true)]);

# restart (scripts/bench/restart.sh writes it itself).
def restart:
  kv_table_target("restart"; [
    kv("entries in the agent'"'"'s state"; .state_entries; 0; false; "-"),
    kv("SIGKILL → /readyz 200, ms"; .sigkill_to_ready_ms; 0; true; "-"),
    kv("cross-network packets sent"; .cross_network_sent; 0; false; "-"),
    kv("cross-network drops counted by sixguard"; .cross_network_dropped_by_sixguard; 0; false; "-"),
    kv("cross-network packets delivered (leaked)"; .cross_network_leaked; 0; false;
       "0" + met(if (.cross_network_leaked | type) == "number" then .cross_network_leaked == 0 else null end)),
    kv("same-network packets sent"; .same_network_sent; 0; false; "-"),
    kv("same-network packets lost"; .same_network_lost; 0; false; "-")]);

# drift (tests/bench/drift_bench.cpp): the check time is the median of check_seconds, as the
# bench prints it.
def drift:
  kv_table("drift"; [
    kv("machines / Flycast / networks"; null; 0; false) + {cell: "\(.machines // "-") / \(.flycast // "-") / \(.networks // "-")"},
    kv("seconds to fill state and maps"; .fill_seconds; 1; true),
    kv("check, no drift (median), s"; .check_seconds // [] | median; 3; true),
    kv("longest control-plane lock hold, s"; .longest_lock_seconds; 3; true),
    kv("slowest single-event batch during the checks, s"; .slowest_batch_during_checks_seconds; 3; true),
    kv("detect and repair one changed entry, s"; .detect_and_repair_one_entry_seconds; 3; true),
    kv("detect and repair: of which lock held, s"; .detect_and_repair_lock_seconds; 3; true),
    kv("batches during the checks"; .batches_during_checks; 0; false),
    kv("differences deferred"; .differences_deferred; 0; false)]);

# fleet (scripts/bench/fleet.sh, from fleet_bench publish/sync/changes): an agent that never
# reached the revision has -1 in initial_sync_seconds.
def fleet:
  kv_table("fleet"; [
    kv("agents"; .agents; 0; false),
    kv("objects published"; .publish.objects?; 0; false),
    kv("initial sync, median s"; .initial_sync_seconds // [] | map(select(. >= 0)) | median; 2; true),
    kv("initial sync, max s"; .initial_sync_seconds // [] | map(select(. >= 0)) | max; 2; true),
    kv("agents that did not sync"; .initial_sync_seconds | if type == "array" then map(select(. < 0)) | length else null end; 0; false),
    kv("of which list + reconcile, median s"; .list_and_reconcile_seconds // [] | median; 2; true),
    kv("changes/s published"; .changes.changes_per_second?; 0; true),
    kv("publish → applied lag p50, s"; .changes.lag_p50_seconds?; 3; true),
    kv("publish → applied lag p99, s"; .changes.lag_p99_seconds?; 3; true),
    kv("publish → applied lag max, s"; .changes.lag_max_seconds?; 3; true),
    kv("changes never applied"; .changes.unreached?; 0; false),
    kv("agent RSS, median MiB"; .rss_mib.agents? // [] | median; 0; true),
    kv("agent RSS, max MiB"; .rss_mib.agents? // [] | max; 0; true),
    kv("etcd member RSS, max MiB"; .rss_mib.etcd? // [] | max; 0; true),
    kv("resync after compaction, s"; .resync.seconds?; 2; true),
    kv("resync: events applied"; .resync.events_applied?; 0; false),
    kv("resync: keys that differ"; .resync.keys_differing?; 0; false)]);

# fuzz (model_fuzz'"'"'s summary, read by fuzz_json).
def fuzz:
  kv_table_target("fuzz"; [
    kv("frames, each through every program"; .frames; 0; false; "-"),
    kv("seconds"; .seconds; 1; true; "-"),
    kv("frames/s"; .frames_per_second; 0; true; "-"),
    kv("disagreements with the model"; .disagreements; 0; false;
       "0" + met(if (.disagreements | type) == "number" then .disagreements == 0 else null end))]);

def section($s):
  if $s == "datapath" then datapath elif $s == "live" then live
  elif $s == "scale" or $s == "scale-64k-machines" then scale($s)
  elif $s == "attach" then attach elif $s == "control" then control
  elif $s == "restart" then restart elif $s == "drift" then drift
  elif $s == "fleet" then fleet elif $s == "fuzz" then fuzz
  else error("unknown section \($s)") end;

def date_of: .date // .utc // "-";
def load_of:
  if .load_average_before then "\(.load_average_before | first_load) → \(.load_average_after | first_load)"
  else .load_average | first_load end;
def carries_date: . != null and (.date or .utc or .load_average_before or .load_average);

"Before: \($bl); after: \($al). after/before: the after figure over the before one; \"-\": not in that run.",
([$sections[] as $s | select(($R.before[$s] | carries_date) or ($R.after[$s] | carries_date))
   | [$s] + ($R.before[$s] | if . == null then ["-", "-"] else [date_of, load_of] end)
          + ($R.after[$s] | if . == null then ["-", "-"] else [date_of, load_of] end)] as $runs
 | if $runs == [] then empty else
     "", table(["group", "\($bl) date", "\($bl) load (1 min)", "\($al) date", "\($al) load (1 min)"]; $runs)
   end),
($sections[] as $s | select($R.after[$s] != null) | "", "### \($s)", "", section($s)),
([$sections[] as $s | select($R.after[$s] == null) | $s] as $missing
 | if $missing == [] then empty else "", "Not run (no results in the \($al) run): \($missing | join(", "))." end)
'

main() {
  local after="" before="" before_label="" after_label=""
  while [[ $# -gt 0 ]]; do
    case $1 in
      --after | --before | --before-label | --after-label)
        [[ $# -ge 2 ]] || { usage; exit 2; }
        case $1 in
          --after) after=$2 ;;
          --before) before=$2 ;;
          --before-label) before_label=$2 ;;
          --after-label) after_label=$2 ;;
        esac
        shift 2
        ;;
      -h | --help) usage; exit 0 ;;
      *) usage; exit 2 ;;
    esac
  done
  [[ -n $after ]] || { usage; exit 2; }
  check_dir --after "$after"
  [[ -z $before ]] || check_dir --before "$before"
  after_label=${after_label:-$(basename "$(cd "$after" && pwd)")}
  if [[ -n $before ]]; then
    before_label=${before_label:-$(basename "$(cd "$before" && pwd)")}
  else
    before_label=${before_label:-before}
  fi

  has_results "$after" || die "--after $after: no benchmark results (none of ${SECTIONS[*]})"
  local work
  work=$(mktemp -d /tmp/sixguard-bench-report-XXXX)
  # shellcheck disable=SC2064 # $work is fixed now
  trap "rm -rf '$work'" EXIT
  load_run "$after" "$work/after.json"
  if [[ -n $before ]]; then load_run "$before" "$work/before.json"; else echo '{}' >"$work/before.json"; fi

  # Everything is checked: only now is anything printed.
  jq -n -r --arg bl "$before_label" --arg al "$after_label" --argjson sections "$SECTIONS_JSON" \
    --slurpfile before "$work/before.json" --slurpfile after "$work/after.json" \
    '{before: $before[0], after: $after[0]} as $R | '"$REPORT_JQ"
}

main "$@"
