//! Queues and submissions: `vkGetDeviceQueue(2)`, `vkQueueSubmit(2)(KHR)`, the pending work
//! of each queue, and the submit-level rules.
