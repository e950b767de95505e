#!/usr/bin/env bash
# End-to-end: the operator's commands on held work, against the real
# `mlc run` (127.0.0.1, temp SQLite store). Noop jobs asked to hold become
# dead letters; `mlc held` lists them with their reason; `mlc replay` by job
# id, by resource key and with --all puts them back (checked with `mlc jobs
# show --json`); `mlc audit --entity` shows the trail including the replay;
# errors for unknown ids, jobs not held and bad usage; every --json output
# parses. Prints TAP lines; every wait is bounded; sleeps only pace polling.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init ops
export MLC_DEBUG_JOBS=1  # the diagnostic job kind noop (core/jobkind.h)

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"
out="$tmp/out"

write_config() {
    yaml_set "$tmp/base.yaml" "$cfg" url="\"$tmp/mlc.db\"" listen="\"127.0.0.1:$port\"" \
        count=2 max_attempts=2 retry_base_ms=20 retry_cap_ms=50 drain_timeout_s=5
}

# Runs python3 code on the JSON in file $1 (as `d`); true when it exits 0.
pyj() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$1" 2>/dev/null
}
job_state() { # ID STATE
    "$MLC" jobs show --config "$cfg" "$1" --json > "$tmp/js.json" 2>/dev/null &&
        pyj "$tmp/js.json" "sys.exit(0 if d['state'] == '$2' else 1)"
}
enqueue() { # KEY PAYLOAD -> prints the job id
    "$MLC" jobs enqueue --config "$cfg" noop "$1" "$2" | awk '{print $1}'
}
# Runs mlc with "$@", stdout to $out, stderr to $out.err; returns its status.
mlc() { "$MLC" "$@" > "$out" 2> "$out.err"; }

# ---- daemon ---------------------------------------------------------------
mlc_init_base || { not_ok "mlc init writes a base config"; bail; }
require "daemon serves on 127.0.0.1" daemon_start write_config
note "daemon on 127.0.0.1:$port"

# ---- nothing held ---------------------------------------------------------
check "mlc held with nothing held exits 0" mlc held --config "$cfg"
check "... and says so" grep -q 'nothing held' "$out"
mlc held --config "$cfg" --json
check "mlc held --json with nothing held: empty items" \
    pyj "$out" "sys.exit(0 if d['items'] == [] and d['held'] == 0 else 1)"

# ---- three held jobs, one failed -----------------------------------------
id1=$(enqueue order:104 '{"fail":"hold"}')
id2=$(enqueue order:105 '{"fail":"hold"}')
id3=$(enqueue order:106 '{"fail":"hold"}')
id4=$(enqueue order:107 '{"fail":"retry"}')
idd=$(enqueue order:108 '{}')
check "held jobs end held" wait_until 150 eval 'job_state "$id1" held && job_state "$id2" held && job_state "$id3" held'
check "retry job ends failed after max_attempts" wait_until 150 job_state "$id4" failed
check "plain job ends done" wait_until 150 job_state "$idd" done

check "mlc held exits 0" mlc held --config "$cfg"
check "mlc held sums them up by reason code" \
    sh -c "grep -q '^3 held, 1 failed, by reason' '$out' && grep -q '^other: 4 items (1 failed)' '$out'"
check "mlc held --all exits 0" mlc held --config "$cfg" --all
check "mlc held names each held key" sh -c "grep -q 'order:104' '$out' && grep -q 'order:105' '$out' && grep -q 'order:106' '$out'"
check "mlc held gives the full reason" grep -q 'reason .*noop: asked to hold' "$out"
check "mlc held flags the failed job" grep -q "^FAILED job $id4  order:107" "$out"
check "mlc held shows the failed job's last error" grep -q 'noop: asked to retry' "$out"
check "mlc held counts" grep -q '^3 held, 1 failed' "$out"
check "mlc held leaves done jobs out" bash -c "! grep -q 'order:108' '$out'"
check "mlc held says how to replay" grep -q 'mlc replay' "$out"

check "mlc held --json exits 0" mlc held --config "$cfg" --json
check "mlc held --json parses with 4 items" pyj "$out" "sys.exit(0 if len(d['items']) == 4 and d['held'] == 3 and d['failed'] == 1 else 1)"
check "mlc held --json items carry id, key, state, since, attempts, reason" \
    pyj "$out" "i=[x for x in d['items'] if x['key']=='order:104'][0]; sys.exit(0 if i['id']==$id1 and i['state']=='held' and i['since'].endswith('Z') and i['attempts']==1 and i['reason']=='noop: asked to hold' and i['kind']=='noop' else 1)"
check "mlc held --json gives each item its reason code and sums them up by code" \
    pyj "$out" "g=d['groups']; sys.exit(0 if all(x['code']=='other' and x['fix'] for x in d['items']) and len(g)==1 and g[0]['code']=='other' and g[0]['count']==4 and g[0]['failed']==1 and g[0]['oldest_id']==min(d['items'], key=lambda x: (x['since_ms'], x['id']))['id'] and g[0]['amounts']==[] and g[0]['no_amount']==4 and d['dismissed']==0 else 1)"
check "mlc held --json flags the failed one with its attempts" \
    pyj "$out" "i=[x for x in d['items'] if x['key']=='order:107'][0]; sys.exit(0 if i['state']=='failed' and i['attempts']==2 else 1)"

# ---- replay: errors first (nothing changes) -------------------------------
mlc replay --config "$cfg" 999999; rc=$?
check "replay of an unknown id exits 1" test "$rc" = 1
check "... saying the job does not exist" grep -q 'no job 999999' "$out.err"
mlc replay --config "$cfg" "$idd"; rc=$?
check "replay of a done job exits 1" test "$rc" = 1
check "... saying it is not held" grep -q "is done, not held or failed" "$out.err"
mlc replay --config "$cfg" order:999; rc=$?
check "replay of a key without held jobs exits 1" test "$rc" = 1
check "... naming the key" grep -q 'order:999 has no held or failed job' "$out.err"
mlc replay --config "$cfg" "$id1" 999999; rc=$?
check "one bad target among good ones replays nothing" sh -c "test $rc = 1 && grep -q 'nothing replayed' '$out.err'"
check "... the good one is still held" job_state "$id1" held
mlc replay --config "$cfg"; rc=$?
check "replay without a target is a usage error (2)" test "$rc" = 2
mlc replay --config "$cfg" --all "$id1"; rc=$?
check "replay with --all and an id is a usage error (2)" test "$rc" = 2
mlc replay --config "$cfg" not-a-key; rc=$?
check "replay of something neither id nor key is a usage error (2)" test "$rc" = 2

# ---- replay by id, by key, --all ------------------------------------------
# The replayed noop jobs still ask to hold, so the daemon holds them again;
# each check reads the audit trail and the job's attempts to see the replay.
check "replay by id exits 0" mlc replay --config "$cfg" "$id1"
check "... and prints what it replayed" grep -q "replayed job $id1  order:104" "$out"
check "replayed job went through ready and is held again by the daemon" \
    wait_until 150 job_state "$id1" held
check "mlc audit shows the replay of order:104" sh -c \
    "'$MLC' audit --config '$cfg' --entity order:104 | grep -q 'cli:$(id -un)[^ ]* .*replay .*ok .*job_id=$id1'"

"$MLC" jobs enqueue --config "$cfg" noop order:105 '{}' >/dev/null   # a READY twin absorbs on replay
check "replay by key exits 0" mlc replay --config "$cfg" order:105 --json
check "replay by key --json lists the job" \
    pyj "$out" "sys.exit(0 if d['count']==1 and d['replayed'][0]['id']==$id2 and d['replayed'][0]['previous_state']=='held' and d['replayed'][0]['reason']=='noop: asked to hold' else 1)"
check "the job replayed by key ends done or held again" \
    wait_until 150 eval 'job_state "$id2" done || job_state "$id2" held'

daemon_stop   # from here on states stay where replay puts them
check "replay --all exits 0" mlc replay --config "$cfg" --all --json
check "replay --all --json parses and lists every held and failed job" \
    pyj "$out" "ids=sorted(x['id'] for x in d['replayed']); sys.exit(0 if $id3 in ids and $id4 in ids and $id1 in ids and d['errors']==[] else 1)"
check "the failed job is ready again" job_state "$id4" ready
check "the held job is ready again" job_state "$id3" ready
check "attempts are reset" sh -c "'$MLC' jobs show --config '$cfg' $id4 --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"attempts\"]==0 else 1)'"
check "mlc held is empty after replay --all" sh -c "'$MLC' held --config '$cfg' | grep -q 'nothing held'"
mlc replay --config "$cfg" --all
check "replay --all with nothing held exits 0 and says so" grep -q 'nothing to replay' "$out"

# ---- audit -----------------------------------------------------------------
check "mlc audit --entity exits 0" mlc audit --config "$cfg" --entity order:107
check "audit shows the worker's retry and failure" sh -c "grep -q 'noop .*retry' '$out' && grep -q 'noop .*failed' '$out'"
check "audit shows the replay after the failure" sh -c \
    "awk '/failed/{f=1} f && /replay/{r=1} END{exit !r}' '$out'"
check "audit lists the open job" grep -q "job $id4  noop .*ready" "$out"
check "mlc audit --order 107 is the same entity" sh -c \
    "'$MLC' audit --config '$cfg' --order 107 | head -1 | grep -q 'order:107'"
check "mlc audit --json exits 0" mlc audit --config "$cfg" --entity order:107 --json
check "mlc audit --json parses: rows oldest first with time, actor, action, outcome, detail" \
    pyj "$out" "a=d['audit']; ok=len(a)>=3 and all(a[i]['at']<=a[i+1]['at'] for i in range(len(a)-1)) and a[-1]['action']=='replay' and a[-1]['actor'].startswith('cli:$(id -un)') and a[-1]['detail']['previous_state']=='failed' and a[-1]['time'].endswith('Z') and d['ledger']==[] and d['jobs'][0]['id']==$id4; sys.exit(0 if ok else 1)"
check "mlc audit --limit 1 keeps the most recent row" sh -c \
    "'$MLC' audit --config '$cfg' --entity order:107 --limit 1 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if len(d[\"audit\"])==1 and d[\"audit\"][0][\"action\"]==\"replay\" and d[\"omitted\"]>=2 else 1)'"
check "mlc audit without an entity lists every entity" sh -c \
    "'$MLC' audit --config '$cfg' --json | python3 -c 'import json,sys; d=json.load(sys.stdin); s={r[\"entity\"] for r in d[\"audit\"]}; sys.exit(0 if {\"order:104\",\"order:107\"} <= s else 1)'"
mlc audit --config "$cfg" --order abc; rc=$?
check "mlc audit --order with a non-number is a usage error (2)" test "$rc" = 2
mlc audit --config "$cfg" --order 1 --entity order:1; rc=$?
check "mlc audit --order with --entity is a usage error (2)" test "$rc" = 2
check "mlc audit of an unknown order says there is nothing" sh -c \
    "'$MLC' audit --config '$cfg' --order 424242 | grep -q 'no audit entries'"
mlc held --config "$tmp/missing.yaml"; rc=$?
check "a missing config file exits 1 with a message" sh -c "test $rc = 1 && grep -q 'missing.yaml' '$out.err'"

e2e_done
