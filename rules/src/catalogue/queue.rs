//! Queues and their pending work: submit-level rules and the semaphore and fence rules that
//! need to know which queue work is unfinished (RULES-TARGET 1.15, 1.16, G15).

use super::{Area, Rule, Severity};

pub const SYNC_RELEASE_WITHOUT_SIGNAL: Rule = Rule {
    id: "HANDOFF-Sync-release-without-signal",
    aliases: &[],
    severity: Severity::Warning,
    area: Area::Sync,
    target: "vkQueueSubmit",
    summary: "a batch releases memory to VK_QUEUE_FAMILY_EXTERNAL or FOREIGN but signals no semaphore and no fence the other side could wait on (best_practices)",
    spec: refpage!("vkQueueSubmit"),
    blocks_call: false,
};

pub const SEM_IMPORT_PENDING: Rule = Rule {
    id: "VUID-vkImportSemaphoreFdKHR-semaphore-01142",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Sync,
    target: "vkImportSemaphoreFdKHR",
    summary: "the semaphore is used by queue work not known to be complete (no fence, idle or timeline wait observed it)",
    spec: refpage!("vkImportSemaphoreFdKHR"),
    blocks_call: false,
};

pub const FENCE_IMPORT_PENDING: Rule = Rule {
    id: "VUID-vkImportFenceFdKHR-fence-01463",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Sync,
    target: "vkImportFenceFdKHR",
    summary: "the fence belongs to a submission not known to be complete",
    spec: refpage!("vkImportFenceFdKHR"),
    blocks_call: false,
};

pub const SEM_SYNC_FD_QUEUE_WAITING: Rule = Rule {
    id: "VUID-VkSemaphoreGetFdInfoKHR-handleType-01134",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Sync,
    target: "vkGetSemaphoreFdKHR",
    summary: "SYNC_FD export while a submitted wait on the semaphore, with no signal submitted after it, is not known to be complete",
    spec: refpage!("VkSemaphoreGetFdInfoKHR"),
    blocks_call: false,
};

pub const SEM_SYNC_FD_NOT_SIGNALED: Rule = Rule {
    id: "VUID-VkSemaphoreGetFdInfoKHR-handleType-01135",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Sync,
    target: "vkGetSemaphoreFdKHR",
    summary:
        "SYNC_FD export of a semaphore that is unsignaled and has no signal operation submitted",
    spec: refpage!("VkSemaphoreGetFdInfoKHR"),
    blocks_call: false,
};

pub const SEM_SYNC_FD_SIGNAL_NOT_SUBMITTED: Rule = Rule {
    id: "VUID-VkSemaphoreGetFdInfoKHR-handleType-03254",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Sync,
    target: "vkGetSemaphoreFdKHR",
    summary: "SYNC_FD export of a semaphore whose pending signal waits on a timeline value no submitted or host signal reaches",
    spec: refpage!("VkSemaphoreGetFdInfoKHR"),
    blocks_call: false,
};

pub const FENCE_SYNC_FD_NOT_SIGNALED: Rule = Rule {
    id: "VUID-VkFenceGetFdInfoKHR-handleType-01454",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Sync,
    target: "vkGetFenceFdKHR",
    summary:
        "SYNC_FD export of a fence that is unsignaled and has no submission pending that signals it",
    spec: refpage!("VkFenceGetFdInfoKHR"),
    blocks_call: false,
};
