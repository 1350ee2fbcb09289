# The library each memcheck error is attributed to: the first frame that names one of ours,
# else the object of the top frame. Input: valgrind logs; output: one library per error.
    /^==[0-9]+== (Invalid|Conditional|Syscall param|Mismatched|Source and destination|Use of uninitialised|Argument .* of function)/ {
        inerr = 1; lib = ""; top = ""; next
    }
    inerr && /^==[0-9]+== *$/ {
        if (lib == "") lib = (top == "" ? "unknown" : top)
        print lib; inerr = 0; next
    }
    inerr {
        if (lib == "" && ($0 ~ /VkLayer_handoff/ || $0 ~ /handoff-layer|layer\/src/)) lib = "libVkLayer_handoff"
        if (lib == "" && ($0 ~ /handoff_mock_icd|mock-icd/)) lib = "libhandoff_mock_icd"
        if (top == "" && match($0, /\(in [^)]*\)/)) { top = substr($0, RSTART + 4, RLENGTH - 5); sub(/.*\//, "", top) }
    }
