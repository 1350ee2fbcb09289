//! Queue work: submissions that release memory without a signal, and the semaphore and fence
//! fd rules that depend on unfinished queue work (01142, 01463, 01134, 01135, 03254, 01454).
//!
//! "Pending" means not known to be complete: the layer only knows work is complete when the
//! application observed it (a signaled fence, an idle wait, a timeline value reached).

use crate::catalogue::{
    FENCE_IMPORT_PENDING, FENCE_SYNC_FD_NOT_SIGNALED, SEM_IMPORT_PENDING, SEM_SYNC_FD_NOT_SIGNALED,
    SEM_SYNC_FD_QUEUE_WAITING, SEM_SYNC_FD_SIGNAL_NOT_SUBMITTED, SYNC_RELEASE_WITHOUT_SIGNAL,
};
use crate::finding::{Finding, Object};
use ash::vk::{self, Handle};

/// One batch of a submission, for `HANDOFF-Sync-release-without-signal`.
#[derive(Clone, Copy, Debug)]
pub struct ReleaseBatch<'a> {
    pub command: &'static str,
    pub queue: u64,
    /// Index of the batch in the submit's array.
    pub batch: usize,
    pub command_buffers: &'a [vk::CommandBuffer],
    /// A command buffer of the batch released memory to EXTERNAL or FOREIGN.
    pub released: bool,
    /// The batch signals at least one semaphore.
    pub signals_semaphore: bool,
    /// The submission has a fence. It signals once every batch of the submission is done,
    /// so it guards the releases of every batch, not only the last one.
    pub fence: bool,
    /// The device enabled `VK_KHR_external_semaphore_fd` or `VK_KHR_external_fence_fd`: it
    /// could have shared a semaphore or a fence with the other side.
    pub can_export_sync: bool,
    /// The `best_practices` setting.
    pub best_practices: bool,
}

/// `HANDOFF-Sync-release-without-signal`.
pub fn release_without_signal(b: &ReleaseBatch<'_>) -> Option<Finding> {
    if !b.best_practices || !b.released || !b.can_export_sync || b.signals_semaphore || b.fence {
        return None;
    }
    let mut objects = vec![Object::new(vk::ObjectType::QUEUE, b.queue)];
    objects.extend(
        b.command_buffers
            .iter()
            .map(|c| Object::new(vk::ObjectType::COMMAND_BUFFER, c.as_raw())),
    );
    Some(Finding::new(
        &SYNC_RELEASE_WITHOUT_SIGNAL,
        format!(
            "{}: batch {} releases memory to an external or foreign queue family but signals no semaphore, and the submission has no fence: the other side has nothing to wait on before it acquires",
            b.command, b.batch
        ),
        objects,
    ))
}

/// VUID-vkImportSemaphoreFdKHR-semaphore-01142. `pending_on`: a queue with unfinished work
/// that waits on or signals the semaphore.
pub fn semaphore_import_pending(semaphore: u64, pending_on: Option<u64>) -> Option<Finding> {
    let queue = pending_on?;
    Some(Finding::new(
        &SEM_IMPORT_PENDING,
        "vkImportSemaphoreFdKHR: the semaphore is waited on or signaled by a submission that is not known to be complete (wait for its fence, the queue or a timeline value first)",
        vec![
            Object::new(vk::ObjectType::SEMAPHORE, semaphore),
            Object::new(vk::ObjectType::QUEUE, queue),
        ],
    ))
}

/// VUID-vkImportFenceFdKHR-fence-01463. `pending_on`: the queue of the unfinished
/// submission the fence belongs to.
pub fn fence_import_pending(fence: u64, pending_on: Option<u64>) -> Option<Finding> {
    let queue = pending_on?;
    Some(Finding::new(
        &FENCE_IMPORT_PENDING,
        "vkImportFenceFdKHR: the fence belongs to a submission that is not known to be complete (wait for the fence or the queue first)",
        vec![
            Object::new(vk::ObjectType::FENCE, fence),
            Object::new(vk::ObjectType::QUEUE, queue),
        ],
    ))
}

/// What the layer knows of a binary semaphore's payload when it is exported as a sync file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SemaphoreState {
    /// Imported, shared, a timeline semaphore, or never seen: nothing is claimed.
    Unknown,
    /// Signaled (by a completed signal or a temporary import), or a signal is submitted
    /// whose dependencies are all submitted.
    Signaled,
    /// The last submitted operation is a signal that waits on `(semaphore, value)`, a
    /// timeline value that no submitted or host signal reaches and the counter was last
    /// seen below.
    SignalWaitsOnUnsubmitted { semaphore: u64, value: u64 },
    /// The last submitted operation is a wait on `queue` not known to be complete.
    WaitPending { queue: u64 },
    /// Unsignaled with no signal submitted: created so, or its last signal was consumed by
    /// a completed wait or an earlier SYNC_FD export.
    Unsignaled,
}

/// SYNC_FD export of a semaphore: 01134, 01135 and 03254, at most one per export.
///
/// The three differ in how far the signal is: 01135 has no signal operation at all after
/// the last wait; 03254 has one submitted, but it depends on a signal that is not (the
/// spec asks that the signal "and any semaphore signal operations on which it depends" be
/// submitted, which only wait-before-signal on a timeline semaphore can break); 01134 is a
/// queue still waiting on the semaphore (its wait is the last operation and is pending).
pub fn semaphore_sync_fd_export(semaphore: u64, state: SemaphoreState) -> Option<Finding> {
    let sem = Object::new(vk::ObjectType::SEMAPHORE, semaphore);
    match state {
        SemaphoreState::Unknown | SemaphoreState::Signaled => None,
        SemaphoreState::WaitPending { queue } => Some(Finding::new(
            &SEM_SYNC_FD_QUEUE_WAITING,
            "vkGetSemaphoreFdKHR: SYNC_FD export while a queue may still be waiting on the semaphore (its wait is not known to be complete and no signal was submitted after it)",
            vec![sem, Object::new(vk::ObjectType::QUEUE, queue)],
        )),
        SemaphoreState::Unsignaled => Some(Finding::new(
            &SEM_SYNC_FD_NOT_SIGNALED,
            "vkGetSemaphoreFdKHR: SYNC_FD export of a semaphore that is unsignaled and has no signal operation submitted",
            vec![sem],
        )),
        SemaphoreState::SignalWaitsOnUnsubmitted {
            semaphore: dep,
            value,
        } => Some(Finding::new(
            &SEM_SYNC_FD_SIGNAL_NOT_SUBMITTED,
            format!(
                "vkGetSemaphoreFdKHR: SYNC_FD export of a semaphore whose pending signal waits on timeline value {value}, which no submitted or host signal reaches yet"
            ),
            vec![sem, Object::new(vk::ObjectType::SEMAPHORE, dep)],
        )),
    }
}

/// What the layer knows of a fence when it is exported as a sync file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FenceState {
    /// Imported permanently or never seen.
    Unknown,
    /// Signaled, or its submission is pending.
    SignaledOrPending,
    /// Created unsignaled, reset, or reset by an earlier SYNC_FD export, with no submission
    /// since.
    Unsignaled,
}

/// VUID-VkFenceGetFdInfoKHR-handleType-01454.
pub fn fence_sync_fd_export(fence: u64, state: FenceState) -> Option<Finding> {
    (state == FenceState::Unsignaled).then(|| {
        Finding::new(
            &FENCE_SYNC_FD_NOT_SIGNALED,
            "vkGetFenceFdKHR: SYNC_FD export of a fence that is unsignaled and belongs to no pending submission",
            vec![Object::new(vk::ObjectType::FENCE, fence)],
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(released: bool) -> ReleaseBatch<'static> {
        ReleaseBatch {
            command: "vkQueueSubmit",
            queue: 0x10,
            batch: 0,
            command_buffers: Box::leak(Box::new([vk::CommandBuffer::from_raw(0x20)])),
            released,
            signals_semaphore: false,
            fence: false,
            can_export_sync: true,
            best_practices: true,
        }
    }

    #[test]
    fn release_without_signal_needs_every_condition() {
        let f = release_without_signal(&batch(true)).expect("fires");
        assert_eq!(f.id(), "HANDOFF-Sync-release-without-signal");
        assert_eq!(f.objects.len(), 2);
        assert!(release_without_signal(&batch(false)).is_none());
        for b in [
            ReleaseBatch {
                signals_semaphore: true,
                ..batch(true)
            },
            ReleaseBatch {
                fence: true,
                ..batch(true)
            },
            ReleaseBatch {
                can_export_sync: false,
                ..batch(true)
            },
            ReleaseBatch {
                best_practices: false,
                ..batch(true)
            },
        ] {
            assert!(release_without_signal(&b).is_none(), "{b:?}");
        }
    }

    #[test]
    fn imports_into_pending_objects() {
        assert!(semaphore_import_pending(1, None).is_none());
        assert_eq!(
            semaphore_import_pending(1, Some(2)).map(|f| f.id()),
            Some("VUID-vkImportSemaphoreFdKHR-semaphore-01142")
        );
        assert!(fence_import_pending(1, None).is_none());
        assert_eq!(
            fence_import_pending(1, Some(2)).map(|f| f.id()),
            Some("VUID-vkImportFenceFdKHR-fence-01463")
        );
    }

    #[test]
    fn semaphore_export_states() {
        let id = |s| semaphore_sync_fd_export(7, s).map(|f| f.id());
        assert_eq!(id(SemaphoreState::Unknown), None);
        assert_eq!(id(SemaphoreState::Signaled), None);
        assert_eq!(
            id(SemaphoreState::WaitPending { queue: 3 }),
            Some("VUID-VkSemaphoreGetFdInfoKHR-handleType-01134")
        );
        assert_eq!(
            id(SemaphoreState::Unsignaled),
            Some("VUID-VkSemaphoreGetFdInfoKHR-handleType-01135")
        );
        assert_eq!(
            id(SemaphoreState::SignalWaitsOnUnsubmitted {
                semaphore: 9,
                value: 4
            }),
            Some("VUID-VkSemaphoreGetFdInfoKHR-handleType-03254")
        );
    }

    #[test]
    fn fence_export_states() {
        assert!(fence_sync_fd_export(1, FenceState::Unknown).is_none());
        assert!(fence_sync_fd_export(1, FenceState::SignaledOrPending).is_none());
        assert_eq!(
            fence_sync_fd_export(1, FenceState::Unsignaled).map(|f| f.id()),
            Some("VUID-VkFenceGetFdInfoKHR-handleType-01454")
        );
    }
}
