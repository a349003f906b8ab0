# shellcheck shell=bash
# Helpers shared by the VM test scripts (sourced, not run).

# The cache for kernels and package lists: never inside the repository.
vm_cache_dir() {
    if [[ -n ${SIXGUARD_VM_CACHE:-} ]]; then
        echo "$SIXGUARD_VM_CACHE"
    elif mkdir -p /var/cache/sixguard-vm 2>/dev/null && [[ -w /var/cache/sixguard-vm ]]; then
        echo /var/cache/sixguard-vm
    else
        echo "${XDG_CACHE_HOME:-$HOME/.cache}/sixguard-vm"
    fi
}

# The Debian mirror the system's apt sources use for its own release (the entry whose
# suite is the system's codename, so not -security nor a third-party repository). Prints
# the URI, or fails when there is none.
vm_system_debian_mirror() {
    local codename
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [[ -n $codename ]] || return 1
    local files=()
    [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
    local f
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] && files+=("$f")
    done
    ((${#files[@]})) || return 1
    awk -v codename="$codename" '
        function check(   n, parts, k) {
            if (types !~ /(^|[ \t])deb([ \t]|$)/ || uris == "") return 0
            n = split(suites, parts, /[ \t]+/)
            for (k = 2; k <= n; k++)
                if (parts[k] == codename) return 1
            return 0
        }
        function reset() { types = uris = suites = "" }
        FNR == 1 { if (check()) { print uris; found = 1; exit } reset() }
        # one-line format: deb [options] URI SUITE COMPONENT...
        FILENAME ~ /\.list$/ && $1 == "deb" {
            i = 2
            if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
            if ($(i + 1) == codename) { print $i; found = 1; exit }
            next
        }
        # deb822 format: blank-line separated stanzas
        FILENAME ~ /\.sources$/ {
            if ($0 ~ /^[ \t]*$/) { if (check()) { print uris; found = 1; exit } reset(); next }
            if (tolower($1) == "types:") types = $0
            if (tolower($1) == "uris:") uris = $2
            if (tolower($1) == "suites:") suites = $0
            if (tolower($1) == "enabled:" && tolower($2) == "no") types = "disabled"
        }
        END {
            if (!found && check()) { print uris; found = 1 }
            exit found ? 0 : 1
        }
' "${files[@]}"
}

# Seconds since the epoch with a fraction, for wall-time figures.
vm_now() { date +%s.%N; }
vm_elapsed() { awk -v a="$1" -v b="$(vm_now)" 'BEGIN { printf "%.1f", b - a }'; }

# vm_watch_progress PID FILE IDLE_S: waits while PID runs; when FILE (the run's output) has not
# grown for IDLE_S seconds, the run is taken as hung: PID (and, when it leads one, its process
# group) is sent TERM, then KILL, and this returns 124. Returns 0 once PID has ended by itself.
# A watchdog on progress and not a wall-clock total: on a loaded machine (stress-ng, TCG) a
# suite that keeps printing may take three times as long, and must not be cut off for it.
vm_watch_progress() {
    local pid=$1 file=$2 idle=$3 size last=-1 quiet=0 step=1 waited
    while kill -0 "$pid" 2>/dev/null; do
        size=$(stat -c %s "$file" 2>/dev/null || echo 0)
        if [[ $size != "$last" ]]; then
            last=$size quiet=0
        elif ((quiet >= idle)); then
            kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
            for ((waited = 0; waited < 10; waited++)); do
                kill -0 "$pid" 2>/dev/null || return 124
                sleep 1
            done
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            return 124
        fi
        sleep "$step"
        quiet=$((quiet + step))
    done
    return 0
}
