//! Command pools and command buffers: pool family, begin/end/reset/free, and the commands
//! whose effect on external resources the ownership rules replay at submit.
