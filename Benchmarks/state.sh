# Sourced by Benchmarks/run.sh and run-guest.sh: prints what a result was measured on (the
# commit, a hash of uncommitted source changes, the Swift version and the date), so a table
# can always be traced back to the code that produced it.
measured_state() {
    local state
    if git rev-parse --verify --quiet HEAD >/dev/null 2>&1; then
        state="commit $(git rev-parse --short HEAD)"
        if ! git diff --quiet HEAD -- Sources Package.swift; then
            # The diff's hash tells two runs of uncommitted work apart.
            state+=" with uncommitted changes to Sources (diff $(git diff HEAD -- Sources Package.swift | sha256sum | cut -c1-12))"
        fi
    else
        state="not a git checkout"
    fi
    echo "$state; $(swift --version 2>/dev/null | head -n 1); $(date -u +%Y-%m-%d)"
}
