# shellcheck shell=bash
# tests/netns.sh - emulated nodes for the multi-node tests (sourced by bash, not run).
#
# A node is a network namespace NETNS_PREFIX-NODE with one interface, eth0, cabled by a
# veth pair to a bridge in the namespace NETNS_PREFIX-head, address NETNS_NET.K/24 for
# nodeK; the head's bridge has NETNS_NET.254 ("head"). Nothing else: no other interface,
# no route off the subnet, so traffic can only go between the namespaces made here.
# /etc/netns/NAME/hosts (which `ip netns exec` puts over /etc/hosts) names every node.
# Commands run on a node with netns_run, which also gives them the node's hostname (a UTS
# namespace). netns_down removes everything by PID and by name.
#
#   netns_usable || skip "$NETNS_WHY"     # root, iproute2, unshare, namespaces
#   netns_up node1 node2                  # NETNS_PREFIX, NETNS_NET may be set before
#   netns_run node1 CMD ARGS...
#   netns_down; netns_gone

NETNS_PREFIX=${NETNS_PREFIX:-hcns-$$}
NETNS_NET=${NETNS_NET:-10.77.0}
NETNS_SUBNET=$NETNS_NET.0/24
NETNS_NODES=""

netns_name() { echo "$NETNS_PREFIX-$1"; }
netns_addr() { if [ "$1" = head ]; then echo "$NETNS_NET.254"; else echo "$NETNS_NET.${1#node}"; fi; }

# netns_usable : 0 when namespaces can be made here, else 1 with the reason in NETNS_WHY.
netns_usable() {
    local c probe=$NETNS_PREFIX-probe
    NETNS_WHY=""
    if [ "$(id -u)" -ne 0 ]; then
        NETNS_WHY="needs root to make network namespaces (running as uid $(id -u))"; return 1
    fi
    for c in ip unshare nsenter mount; do
        command -v "$c" >/dev/null 2>&1 || { NETNS_WHY="no '$c' command (iproute2, util-linux)"; return 1; }
    done
    if ! ip netns add "$probe" 2>/dev/null; then
        NETNS_WHY="ip netns add failed: no network namespaces here"; return 1
    fi
    if ! ip netns exec "$probe" unshare --uts --mount true 2>/dev/null; then
        ip netns del "$probe"; NETNS_WHY="unshare --uts --mount failed: no UTS or mount namespaces here"; return 1
    fi
    ip netns del "$probe"
}

# netns_up NODE... : the head with its bridge and the nodes (named nodeK, K = 1..253).
netns_up() {
    local n k head hosts="127.0.0.1 localhost"
    head=$(netns_name head)
    NETNS_NODES="$*"
    for n in head "$@"; do hosts="$hosts
$(netns_addr "$n") $n"; done
    ip netns add "$head" && ip -n "$head" link add br0 type bridge &&
        ip -n "$head" addr add "$(netns_addr head)/24" dev br0 &&
        ip -n "$head" link set br0 up && ip -n "$head" link set lo up || return 1
    mkdir -p "/etc/netns/$head" && echo "$hosts" > "/etc/netns/$head/hosts" || return 1
    for n; do
        k=${n#node}
        ip netns add "$(netns_name "$n")" &&
            ip -n "$head" link add "port$k" type veth peer name eth0 netns "$(netns_name "$n")" &&
            ip -n "$head" link set "port$k" master br0 up &&
            ip -n "$(netns_name "$n")" addr add "$(netns_addr "$n")/24" dev eth0 &&
            ip -n "$(netns_name "$n")" link set eth0 up &&
            ip -n "$(netns_name "$n")" link set lo up || return 1
        mkdir -p "/etc/netns/$(netns_name "$n")" && echo "$hosts" > "/etc/netns/$(netns_name "$n")/hosts" || return 1
    done
}

# netns_confined : every node has only lo and eth0, and one route: the subnet.
netns_confined() {
    local n links routes
    for n in $NETNS_NODES; do
        links=$(ip -n "$(netns_name "$n")" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' ')
        routes=$(ip -n "$(netns_name "$n")" route show | tr '\n' ';')
        if [ "$links" != "eth0 lo " ] ||
           [ "$routes" != "$NETNS_SUBNET dev eth0 proto kernel scope link src $(netns_addr "$n") ;" ]; then
            echo "# $n: links '$links' routes '$routes'"
            return 1
        fi
    done
}

# netns_run NODE CMD ARGS... : runs the command on NODE (head or a node): its network
# namespace, hostname NODE, the hosts file naming the nodes. Unlike `ip netns exec` it
# keeps the host's /sys (slurmd wants its cgroup mounts there).
netns_run() {
    local n=$1
    shift
    nsenter --net="/run/netns/$(netns_name "$n")" unshare --uts --mount sh -c \
        'mount --bind "$1" /etc/hosts && hostname "$2" && shift 2 && exec "$@"' \
        sh "/etc/netns/$(netns_name "$n")/hosts" "$n" "$@"
}

# netns_pids NODE : the processes in NODE's network namespace.
netns_pids() { ip netns pids "$(netns_name "$1")" 2>/dev/null | tr '\n' ' '; }

# netns_eth0_bytes NODE : bytes received + sent on NODE's eth0.
netns_eth0_bytes() {
    ip netns exec "$(netns_name "$1")" cat /sys/class/net/eth0/statistics/rx_bytes \
        /sys/class/net/eth0/statistics/tx_bytes | awk '{s += $1} END {printf "%.0f\n", s}'
}

# netns_down : kill -9 every process in the namespaces (by PID), delete the namespaces and
# their /etc/netns entries (by name). Safe to call twice.
netns_down() {
    local n pids
    for n in $NETNS_NODES head; do
        pids=$(netns_pids "$n")
        # shellcheck disable=SC2086
        [ -n "${pids// /}" ] && kill -9 $pids 2>/dev/null
    done
    for n in $NETNS_NODES head; do
        ip netns del "$(netns_name "$n")" 2>/dev/null
        rm -rf "/etc/netns/$(netns_name "$n")"
    done
}

# netns_gone : no namespace or /etc/netns entry of this run is left.
netns_gone() {
    local n
    for n in $NETNS_NODES head; do
        ip netns list | grep -q "^$(netns_name "$n")\b" && return 1
        [ -e "/etc/netns/$(netns_name "$n")" ] && return 1
    done
    return 0
}
