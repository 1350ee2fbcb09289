//! The process-wide payload registry: which open files are payloads exported by Vulkan in
//! this process, and who exported them (RULES-TARGET §2.2 G1–G5, G14).
//!
//! When `vkGetMemoryFdKHR` succeeds the layer keeps a duplicate (`F_DUPFD_CLOEXEC`) of the
//! returned fd with the exporter's facts. An fd given to an import is matched against those
//! duplicates:
//!
//! * `(st_dev, st_ino)` must be equal — a different inode is a different file, always;
//! * then `kcmp(KCMP_FILE)` says whether it is the very same open file (a dup, an fd passed
//!   through a unix socket, another export of a driver that hands out dups);
//! * where kcmp says "another open file" (or is unavailable), equal inodes still prove the
//!   same payload only for inodes that are unique per payload: memfds (the `/memfd:` link)
//!   and dma-bufs. A character device proves nothing: NVIDIA hands out `/dev/nvidiactl`
//!   fds that share one inode, with a new open file per export.
//!
//! The app's fds are never read, closed or consumed: only `fstat`, `fcntl(F_GETFD)`,
//! `readlink` of `/proc/self/fd/N`, `kcmp` and a dup of an fd `vkGetMemoryFdKHR` just
//! returned. Duplicates are closed when the exporting memory is freed or its device
//! destroyed, and at most [`MAX_HELD_FDS`] are held per process.

use crate::dispatch::{self, DeviceData};
use crate::fd::classify_link;
use crate::ledger::{self, Entry, FileKey, Ledger};
use crate::state::{self, Dedicated, MemoryRecord};
use ash::vk::{self, Handle};
use handoff_rules::checks::memory_export::GetFdCall;
use handoff_rules::checks::memory_import::{AllocateCall, FdKind};
use handoff_rules::checks::payload::{
    self as rules, BufferIdentity, ConsumedFd, DedicatedIdentity, DeviceSide, ExporterFacts,
    ImageIdentity, ImporterFacts,
};
use handoff_rules::checks::resource_create::Answer;
use handoff_rules::checks::sync::{FdOrigin, Kind as SyncKind, SyncExporter};
use handoff_rules::{catalogue, Finding};
use once_cell::sync::Lazy;
use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;

/// Duplicates of exported fds held per process, at most.
pub const MAX_HELD_FDS: usize = 256;
/// Consumed fd numbers remembered per process, at most.
pub const MAX_CONSUMED: usize = 1024;

const OPAQUE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
const DMA_BUF: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT;

/// What `fstat` and the `/proc/self/fd` link say about an open fd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    /// One inode per payload (memfd, dma-buf): inode equality proves the same payload.
    unique: bool,
}

fn file_id(fd: i32) -> Option<FileId> {
    if fd < 0 {
        return None;
    }
    crate::fd::stat(fd).ok().map(|st| file_id_of(fd, st))
}

/// The identity of open fd `fd` from what `fstat` said of it.
fn file_id_of(fd: i32, st: crate::fd::Stat) -> FileId {
    // One inode per payload: a memfd (a regular file on shmem, lavapipe's and the mock's
    // payloads) or a dma-buf. A character device (NVIDIA's /dev/nvidiactl) shares one inode
    // among all payloads. Only what fstat cannot tell apart costs a readlink.
    let unique = match st.file_type {
        libc::S_IFREG => true,
        libc::S_IFCHR | libc::S_IFBLK | libc::S_IFDIR | libc::S_IFIFO | libc::S_IFSOCK => false,
        _ => crate::fd::link(fd).is_some_and(|l| classify_link(&l) == Some(FdKind::DmaBuf)),
    };
    FileId {
        dev: st.dev,
        ino: st.ino,
        unique,
    }
}

/// Whether two fds of this process are the same open file (see [`crate::fd::same_open_file`]).
fn same_open_file(a: i32, b: i32) -> Option<bool> {
    let me = std::process::id();
    crate::fd::same_open_file(me, a, me, b)
}

/// Whether open fd `fd` (with `id`) is the payload behind held fd `held` (with `held_id`).
fn same_payload(fd: i32, id: FileId, held: i32, held_id: FileId) -> bool {
    if id.dev != held_id.dev || id.ino != held_id.ino {
        return false;
    }
    // Equal unique inodes are the same payload whatever kcmp would say: no system call.
    if id.unique {
        return true;
    }
    match same_open_file(fd, held) {
        Some(true) => true,
        _ => id.unique,
    }
}

struct Held {
    fd: OwnedFd,
    id: FileId,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    /// `(device, memory)` whose export it duplicates.
    owner: (u64, u64),
}

struct Payload {
    exporter: ExporterFacts,
    /// Almost always the one export that made the payload: inline, no allocation.
    held: SmallVec<[Held; 1]>,
    /// This process's ledger entry for the payload (`ledger_dir`), republished at each
    /// release.
    ledger: Option<(Ledger, Entry)>,
}

impl Payload {
    /// Takes this process's ledger entry for the payload back (it is being forgotten).
    fn withdraw(&self) {
        if let Some((ledger, e)) = &self.ledger {
            let key = FileKey {
                dev: e.dev,
                ino: e.ino,
            };
            ledger.withdraw(key, e.pid, e.fd);
        }
    }
}

/// Where an import from another process found its exporter in the ledger.
#[derive(Clone, Debug)]
struct Remote {
    ledger: Ledger,
    key: FileKey,
    pid: u32,
    fd: i32,
}

struct Consumed {
    facts: ConsumedFd,
    id: FileId,
    payload: Option<u64>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    payloads: HashMap<u64, Payload>,
    held: usize,
    /// fd number → the import that consumed it while the driver keeps it open.
    consumed: HashMap<i32, Consumed>,
    cap_logged: bool,
    /// Duplicates of OPAQUE_FD semaphore and fence exports (they count toward `held`).
    sync: Vec<SyncHeld>,
    /// `(device, memory)` imported from a payload another process published in the ledger.
    remote: HashMap<(u64, u64), Remote>,
    /// Built once more than [`INDEX_FROM`] payloads are alive: `(dev, ino)` of every held
    /// duplicate → the payloads holding it (once per duplicate), so that an import looks its
    /// fd's inode up instead of visiting every payload. With a few payloads the visit is
    /// cheaper than keeping the index (an insert per export and a removal per free).
    by_file: Option<FileIndex>,
}

type FileIndex = HashMap<(u64, u64), SmallVec<[u64; 1]>>;

/// Payloads alive past which imports use the inode index.
const INDEX_FROM: usize = 32;
/// Payloads alive under which the index is dropped again.
const INDEX_UNTIL: usize = 8;

/// Files `pid` under the inode of a duplicate it now holds (when there is an index).
fn index_held(by_file: &mut Option<FileIndex>, id: FileId, pid: u64) {
    if let Some(ix) = by_file {
        ix.entry((id.dev, id.ino)).or_default().push(pid);
    }
}

/// Takes one filing of `pid` under `id`'s inode back (a held duplicate was closed).
fn unindex_held(by_file: &mut Option<FileIndex>, id: FileId, pid: u64) {
    let Some(by_file) = by_file else {
        return;
    };
    let key = (id.dev, id.ino);
    if let Some(pids) = by_file.get_mut(&key) {
        if let Some(i) = pids.iter().position(|&p| p == pid) {
            pids.swap_remove(i);
        }
        if pids.is_empty() {
            by_file.remove(&key);
        }
    }
}

static REGISTRY: Lazy<Mutex<Registry>> = Lazy::new(|| Mutex::new(Registry::default()));
/// For fork.rs, which holds it across fork().
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 1] {
    [&*REGISTRY]
}

/// Runs a mutation of the registry; everything it allocates or frees is state (so values
/// that end up in the maps must be built inside `f`).
fn with<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    let mut g = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut g)
}

/// Runs a read of the registry; what `f` allocates (copies handed out) is not state.
fn read<R>(f: impl FnOnce(&Registry) -> R) -> R {
    let g = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(&g)
}

impl Registry {
    /// A duplicate of `fd` (which the driver just returned) for the registry to hold, or
    /// `None` when [`MAX_HELD_FDS`] are held (the first time, `log_cap` asks the caller to
    /// warn once the lock is released) or the dup fails. The caller counts it in `held`
    /// once stored.
    fn dup_to_hold(&mut self, fd: i32, log_cap: &mut bool) -> Option<OwnedFd> {
        if self.held >= MAX_HELD_FDS {
            if !self.cap_logged {
                self.cap_logged = true;
                *log_cap = true;
            }
            return None;
        }
        // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor of the open file `fd`; the original
        // stays the app's, untouched.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        // SAFETY: `dup`, when valid, is a new descriptor that nothing else owns.
        (dup >= 0).then(|| unsafe { OwnedFd::from_raw_fd(dup) })
    }

    /// The payload `fd` (open, with `id`) is, with the held export's handle type.
    fn find(&self, fd: i32, id: FileId) -> Option<(u64, vk::ExternalMemoryHandleTypeFlags)> {
        let held_by = |pid: u64, p: &Payload| {
            p.held
                .iter()
                .find(|h| same_payload(fd, id, h.fd.as_raw_fd(), h.id))
                .map(|h| (pid, h.handle_type))
        };
        match &self.by_file {
            // Only a duplicate with the same inode can be the same payload (`same_payload`).
            Some(ix) => ix
                .get(&(id.dev, id.ino))?
                .iter()
                .find_map(|&pid| held_by(pid, self.payloads.get(&pid)?)),
            None => self.payloads.iter().find_map(|(&pid, p)| held_by(pid, p)),
        }
    }

    /// Builds the inode index once many payloads are alive (see [`Registry::by_file`]).
    #[inline]
    fn index_if_many(&mut self) {
        if self.by_file.is_none() && self.payloads.len() > INDEX_FROM {
            self.build_index();
        }
    }

    #[cold]
    fn build_index(&mut self) {
        let mut ix = FileIndex::default();
        for (&pid, p) in &self.payloads {
            for h in &p.held {
                ix.entry((h.id.dev, h.id.ino)).or_default().push(pid);
            }
        }
        self.by_file = Some(ix);
    }

    /// Forgets the payloads exported by, the duplicates held for and the imports made by
    /// the `(device, memory)` pairs `gone` names; returns the payloads forgotten.
    fn drop_where(&mut self, gone: impl Fn(u64, u64) -> bool) -> Vec<u64> {
        let before: usize = self.payloads.values().map(|p| p.held.len()).sum();
        let mut dropped = Vec::new();
        let by_file = &mut self.by_file;
        self.payloads.retain(|id, p| {
            let keep = !gone(p.exporter.side.device, p.exporter.memory);
            if !keep {
                dropped.push(*id);
                p.withdraw();
                for h in &p.held {
                    unindex_held(by_file, h.id, *id);
                }
            }
            keep
        });
        self.remote.retain(|&(d, m), _| !gone(d, m));
        for (pid, p) in self.payloads.iter_mut() {
            p.held.retain(|h| {
                let keep = !gone(h.owner.0, h.owner.1);
                if !keep {
                    unindex_held(by_file, h.id, *pid);
                }
                keep
            });
        }
        let after: usize = self.payloads.values().map(|p| p.held.len()).sum();
        self.held = self.held.saturating_sub(before - after);
        self.consumed
            .retain(|_, c| !gone(c.facts.device, c.facts.memory));
        self.trim();
        dropped
    }

    /// What [`Registry::drop_where`] does for one memory object, without visiting the other
    /// payloads: everything a memory object exported or duplicated lives in the payload its
    /// record names (`after_export` files each export there).
    fn drop_memory(&mut self, device: u64, memory: u64, payload: Option<u64>) -> Option<u64> {
        let owner = (device, memory);
        let mut dropped = None;
        if let Some(pid) = payload {
            let exported = self
                .payloads
                .get(&pid)
                .is_some_and(|p| (p.exporter.side.device, p.exporter.memory) == owner);
            if exported {
                if let Some(p) = self.payloads.remove(&pid) {
                    p.withdraw();
                    for h in &p.held {
                        unindex_held(&mut self.by_file, h.id, pid);
                    }
                    self.held = self.held.saturating_sub(p.held.len());
                    dropped = Some(pid);
                }
            } else if let Some(p) = self.payloads.get_mut(&pid) {
                let before = p.held.len();
                let by_file = &mut self.by_file;
                p.held.retain(|h| {
                    let keep = h.owner != owner;
                    if !keep {
                        unindex_held(by_file, h.id, pid);
                    }
                    keep
                });
                self.held = self.held.saturating_sub(before - p.held.len());
            }
        }
        if !self.remote.is_empty() {
            self.remote.remove(&owner);
        }
        if !self.consumed.is_empty() {
            self.consumed
                .retain(|_, c| (c.facts.device, c.facts.memory) != owner);
        }
        self.trim();
        dropped
    }

    /// Gives memory back once the maps are mostly empty. Keeping a small table rather than
    /// freeing it at zero entries spares an allocation per export/free cycle; the bound keeps
    /// `state_bytes` flat however many cycles run.
    fn trim(&mut self) {
        const KEEP: usize = 16;
        if self.payloads.capacity() > KEEP && self.payloads.len() * 4 < self.payloads.capacity() {
            self.payloads.shrink_to(KEEP.max(self.payloads.len() * 2));
        }
        if self.consumed.capacity() > KEEP && self.consumed.len() * 4 < self.consumed.capacity() {
            self.consumed.shrink_to(KEEP.max(self.consumed.len() * 2));
        }
        if self.payloads.len() < INDEX_UNTIL {
            self.by_file = None;
        } else if let Some(ix) = &mut self.by_file {
            if ix.capacity() > KEEP && ix.len() * 4 < ix.capacity() {
                ix.shrink_to(KEEP.max(ix.len() * 2));
            }
        }
    }
}

fn warn_cap() {
    tracing::warn!(
        target: "handoff",
        limit = MAX_HELD_FDS,
        "payload registry: holding the maximum number of exported fds; later exports are not tracked until memory is freed"
    );
}

/// The device half of the facts.
pub(crate) fn device_side(data: &DeviceData) -> DeviceSide {
    // SAFETY: the physical device of a live device is a live dispatchable handle; its
    // dispatch word identifies the instance.
    let instance = unsafe { dispatch::key(data.physical_device) } as u64;
    DeviceSide {
        device: data.handle.as_raw(),
        instance,
        group: std::sync::Arc::clone(&data.group_raw),
        device_uuid: data.device_uuid,
        driver_uuid: data.driver_uuid,
    }
}

fn buffer_identity(device: vk::Device, buffer: u64) -> Option<BufferIdentity> {
    state::resources::buffer(device, vk::Buffer::from_raw(buffer)).map(|b| BufferIdentity {
        flags: b.flags,
        size: b.size,
        usage: b.usage,
        sharing_mode: b.sharing_mode,
        external_types: b.external_types,
    })
}

fn image_identity(device: vk::Device, image: u64) -> Option<ImageIdentity> {
    state::resources::image(device, vk::Image::from_raw(image)).map(|i| ImageIdentity {
        flags: i.flags,
        image_type: i.image_type,
        format: i.format,
        extent: i.extent,
        mip_levels: i.mip_levels,
        array_layers: i.array_layers,
        samples: i.samples,
        tiling: i.tiling,
        usage: i.usage,
        sharing_mode: i.sharing_mode,
        external_types: i.external_types,
    })
}

fn dedicated_identity(device: vk::Device, d: Dedicated) -> DedicatedIdentity {
    match d {
        Dedicated::None => DedicatedIdentity::None,
        Dedicated::Buffer(b) => DedicatedIdentity::Buffer(b, buffer_identity(device, b)),
        Dedicated::Image(i) => DedicatedIdentity::Image(i, image_identity(device, i)),
    }
}

/// What `vkAllocateMemory` found out before the call, for [`after_import`].
#[derive(Default)]
pub struct PendingImport {
    fd: i32,
    id: Option<FileId>,
    payload: Option<u64>,
    /// The exporter's ledger entry, when the fd comes from another process.
    remote: Option<Remote>,
    findings: Vec<Finding>,
}

impl PendingImport {
    /// What an allocation without an fd import leaves for [`after_import`].
    pub fn none() -> PendingImport {
        PendingImport {
            fd: -1,
            ..Default::default()
        }
    }

    /// The payload the imported fd was recognised as.
    pub fn payload(&self) -> Option<u64> {
        self.payload
    }

    /// This module's findings merged into the import findings of the same call: where the
    /// handleType is no valid bit at all, that implicit id replaces 00669 (one fact, one id).
    pub fn merge_into(&mut self, findings: &mut Vec<Finding>) {
        let invalid_type = self
            .findings
            .iter()
            .any(|f| f.rule.id == catalogue::IMPORT_FD_HANDLE_TYPE_INVALID.id);
        if invalid_type {
            findings.retain(|f| f.rule.id != catalogue::IMPORT_FD_HANDLE_TYPE_NOT_FD.id);
        }
        findings.append(&mut self.findings);
    }
}

/// The resource an import names in `VkMemoryDedicatedAllocateInfo`, with its create
/// parameters.
fn import_dedicated(data: &DeviceData, call: &AllocateCall) -> DedicatedIdentity {
    let d = match call.dedicated {
        Some(d) if d.image != 0 => Dedicated::Image(d.image),
        Some(d) if d.buffer != 0 => Dedicated::Buffer(d.buffer),
        _ => Dedicated::None,
    };
    dedicated_identity(data.handle, d)
}

/// Checks an import against the registry before the call goes down.
///
/// `stat` is what classifying the import's fd found (`None` when it was not classified or
/// could not be statted).
pub fn before_import(
    data: &DeviceData,
    call: &AllocateCall,
    stat: Option<crate::fd::Stat>,
) -> PendingImport {
    let mut p = PendingImport {
        fd: -1,
        ..Default::default()
    };
    let Some(imp) = call.fd_import.as_ref() else {
        return p;
    };
    p.fd = imp.fd;
    p.findings.extend(rules::import_handle_type_parameter(call));
    if imp.handle_type != OPAQUE && imp.handle_type != DMA_BUF {
        return p;
    }
    if matches!(imp.kind, FdKind::Negative | FdKind::Closed) {
        return p;
    }
    let Some(id) = stat
        .map(|st| file_id_of(imp.fd, st))
        .or_else(|| file_id(imp.fd))
    else {
        return p;
    };
    p.id = Some(id);
    let (found, reused) = read(|r| {
        let found = r.find(imp.fd, id);
        let reused = r.consumed.get(&imp.fd).and_then(|c| {
            let same = match (c.payload, found) {
                (Some(a), Some((b, _))) => a == b,
                _ => c.id == id && id.unique,
            };
            same.then_some(c.facts)
        });
        let exporter = found.and_then(|(pid, ty)| {
            r.payloads
                .get(&pid)
                .map(|pl| (pid, ty, pl.exporter.clone()))
        });
        (exporter, reused)
    });
    if let Some(prior) = reused {
        p.findings.push(rules::fd_reused(call, &prior));
        return p;
    }
    if found.is_none() {
        if let Some(exporter) = read(|r| r.find_sync(imp.fd, id)) {
            p.findings
                .push(handoff_rules::checks::sync::memory_import_of_sync(
                    call, &exporter,
                ));
            return p;
        }
    }
    match found {
        Some((pid, ty, exporter)) => {
            p.payload = Some(pid);
            if imp.handle_type == OPAQUE && ty == OPAQUE {
                let importer = ImporterFacts {
                    side: device_side(data),
                    dedicated: import_dedicated(data, call),
                };
                p.findings
                    .extend(rules::opaque_import(call, &importer, &exporter));
            }
        }
        None if imp.handle_type == DMA_BUF
            && data.has_extension(vk::EXT_EXTERNAL_MEMORY_DMA_BUF_NAME) =>
        {
            let mut props = vk::MemoryFdPropertiesKHR::default();
            // SAFETY: a live device, an open fd (checked above) and a writable struct; the
            // query neither consumes nor changes the fd.
            let r = unsafe {
                (data.external_memory_fd.get_memory_fd_properties_khr)(
                    data.handle,
                    DMA_BUF,
                    imp.fd,
                    &mut props,
                )
            };
            if r == vk::Result::SUCCESS {
                p.findings
                    .extend(rules::dma_buf_memory_type(call, props.memory_type_bits));
            }
        }
        None => {
            if let Some(remote) = remote_exporter(data, call, imp.fd, id, &mut p.findings) {
                p.remote = Some(remote);
            }
        }
    }
    p
}

/// Looks for the exporter of `fd` in the ledger (another process); for an OPAQUE_FD import
/// runs the same comparisons as for an exporter of this process (01746, 01742, 01878/01879).
/// Device groups are not published: those rules stay in-process.
fn remote_exporter(
    data: &DeviceData,
    call: &AllocateCall,
    fd: i32,
    id: FileId,
    findings: &mut Vec<Finding>,
) -> Option<Remote> {
    let ledger = open_ledger(data)?;
    let key = FileKey {
        dev: id.dev,
        ino: id.ino,
    };
    let entry = ledger.find(fd, key)?;
    let imp = call.fd_import.as_ref()?;
    let entry_type = vk::ExternalMemoryHandleTypeFlags::from_raw(entry.handle_type);
    if imp.handle_type == OPAQUE && entry_type == OPAQUE {
        let side = device_side(data);
        let exporter = ExporterFacts {
            side: DeviceSide {
                device: 0,
                instance: 0,
                group: side.group.clone(),
                device_uuid: entry.device_uuid,
                driver_uuid: entry.driver_uuid,
            },
            memory: 0,
            allocation_size: entry.allocation_size,
            memory_type_index: entry.memory_type_index,
            dedicated: dedicated_from_ledger(&entry.dedicated),
            device_mask: call.device_mask,
            process: Some(entry.pid),
        };
        let importer = ImporterFacts {
            side: DeviceSide {
                instance: 0,
                ..side
            },
            dedicated: import_dedicated(data, call),
        };
        findings.extend(rules::opaque_import(call, &importer, &exporter));
    }
    Some(Remote {
        ledger,
        key,
        pid: entry.pid,
        fd: entry.fd,
    })
}

/// Records a successful import: the fd number is consumed; if the driver keeps it open
/// (the same file as before the call), a later import of that number is a reuse.
pub fn after_import(device: vk::Device, memory: vk::DeviceMemory, pending: &PendingImport) {
    let Some(before) = pending.id else {
        return;
    };
    if let Some(remote) = &pending.remote {
        with(|r| {
            r.remote
                .insert((device.as_raw(), memory.as_raw()), remote.clone())
        });
    }
    let fd = pending.fd;
    // One fstat: it fails on a number the driver closed (EBADF), so no F_GETFD first.
    let still = file_id(fd).is_some_and(|now| now.dev == before.dev && now.ino == before.ino);
    let full = with(|r| {
        if !still {
            r.consumed.remove(&fd);
            return false;
        }
        if r.consumed.len() >= MAX_CONSUMED && !r.consumed.contains_key(&fd) {
            return true;
        }
        r.consumed.insert(
            fd,
            Consumed {
                facts: ConsumedFd {
                    fd,
                    device: device.as_raw(),
                    memory: memory.as_raw(),
                },
                id: before,
                payload: pending.payload,
            },
        );
        false
    });
    if full {
        tracing::debug!(target: "handoff", fd, "payload registry: consumed-fd table full");
    }
}

/// Checks a `vkGetMemoryFdKHR` call: its implicit parameter ids, and the re-export of
/// imported memory (G14). `findings` are the export findings of the same call: where the
/// handleType is no valid bit at all, that implicit id replaces 00672.
pub fn before_export(
    data: &DeviceData,
    call: &GetFdCall,
    fd_pointer_null: bool,
    rec: Option<&MemoryRecord>,
    findings: &mut Vec<Finding>,
) {
    let mine = rules::get_fd_parameters(call, fd_pointer_null);
    if mine
        .iter()
        .any(|f| f.rule.id == catalogue::GET_FD_HANDLE_TYPE_INVALID.id)
    {
        findings.retain(|f| f.rule.id != catalogue::GET_FD_HANDLE_TYPE_NOT_FD.id);
    }
    findings.extend(mine);
    let Some(rec) = rec else {
        return;
    };
    let import_type = rec.import_type;
    if import_type.is_empty()
        || !rules::is_valid_handle_type_bit(import_type)
        || !rules::is_valid_handle_type_bit(call.handle_type)
        || !rec.export_types.contains(call.handle_type)
    {
        return;
    }
    if let Some((
        Answer::Props {
            features,
            export_from_imported,
            ..
        },
        query,
    )) = import_answer(data, rec)
    {
        if features.contains(vk::ExternalMemoryFeatureFlags::IMPORTABLE) {
            findings.extend(rules::reexport(
                call,
                import_type,
                export_from_imported,
                &query,
            ));
        }
    }
}

/// The driver's answer for the memory's import type: for its dedicated buffer or image
/// with that resource's create parameters; otherwise for a plain transfer buffer (usage
/// TRANSFER_SRC|TRANSFER_DST, no flags). exportFromImportedHandleTypes describes the handle
/// type far more than the resource, and a transfer buffer is the resource any memory can
/// back, so it is the least specific question the driver answers.
fn import_answer(data: &DeviceData, rec: &MemoryRecord) -> Option<(Answer, String)> {
    let physical = data.physical_device;
    let ty = rec.import_type;
    let (answers, query) = match rec.dedicated {
        Dedicated::Image(h) => {
            let img = state::resources::image(data.handle, vk::Image::from_raw(h))?;
            let params = crate::capabilities::ImageParams {
                format: img.format,
                image_type: img.image_type,
                tiling: img.tiling,
                usage: img.usage,
                flags: img.flags,
            };
            let views = if img.has_format_list {
                state::resources::image_view_formats(data.handle, vk::Image::from_raw(h))
            } else {
                None
            };
            (
                crate::capabilities::image_answers(
                    &data.capabilities,
                    physical,
                    params,
                    views.as_deref(),
                    ty,
                ),
                format!(
                    "vkGetPhysicalDeviceImageFormatProperties2 for its dedicated VkImage 0x{h:x}"
                ),
            )
        }
        Dedicated::Buffer(h) => {
            let buf = state::resources::buffer(data.handle, vk::Buffer::from_raw(h))?;
            (
                crate::capabilities::buffer_answers(
                    &data.capabilities,
                    physical,
                    buf.flags,
                    buf.usage,
                    ty,
                ),
                format!(
                    "vkGetPhysicalDeviceExternalBufferProperties for its dedicated VkBuffer 0x{h:x}"
                ),
            )
        }
        Dedicated::None => (
            crate::capabilities::buffer_answers(
                &data.capabilities,
                physical,
                vk::BufferCreateFlags::empty(),
                vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST,
                ty,
            ),
            "vkGetPhysicalDeviceExternalBufferProperties (for a TRANSFER_SRC|TRANSFER_DST buffer)"
                .to_owned(),
        ),
    };
    answers.into_iter().next().map(|(_, a)| (a, query))
}

/// The ledger of `ledger_dir`, when set and still private to this user.
fn open_ledger(data: &DeviceData) -> Option<Ledger> {
    let dir = data.reporter.settings.ledger_dir.as_ref()?;
    match Ledger::open(dir) {
        Ok(l) => Some(l),
        Err(why) => {
            tracing::warn!(target: "handoff", %why, "ledger_dir is not used");
            None
        }
    }
}

fn dedicated_to_ledger(d: &DedicatedIdentity) -> ledger::Dedicated {
    match d {
        DedicatedIdentity::Buffer(_, Some(b)) => ledger::Dedicated::Buffer([
            u64::from(b.flags.as_raw()),
            b.size,
            u64::from(b.usage.as_raw()),
            b.sharing_mode.as_raw() as u64,
            u64::from(b.external_types.as_raw()),
        ]),
        DedicatedIdentity::Image(_, Some(i)) => ledger::Dedicated::Image([
            u64::from(i.flags.as_raw()),
            i.image_type.as_raw() as u64,
            i.format.as_raw() as u64,
            u64::from(i.extent[0]),
            u64::from(i.extent[1]),
            u64::from(i.extent[2]),
            u64::from(i.mip_levels),
            u64::from(i.array_layers),
            u64::from(i.samples.as_raw()),
            i.tiling.as_raw() as u64,
            u64::from(i.usage.as_raw()),
            i.sharing_mode.as_raw() as u64,
            u64::from(i.external_types.as_raw()),
        ]),
        _ => ledger::Dedicated::None,
    }
}

/// The dedicated resource of a ledger entry, as the import rules compare it. Values out of
/// range for their Vulkan type come from a corrupt entry: no identity is claimed then.
fn dedicated_from_ledger(d: &ledger::Dedicated) -> DedicatedIdentity {
    let u32_of = |v: u64| u32::try_from(v).ok();
    let i32_of = |v: u64| i32::try_from(v).ok();
    match d {
        ledger::Dedicated::None => DedicatedIdentity::None,
        ledger::Dedicated::Buffer(v) => DedicatedIdentity::Buffer(
            0,
            (|| {
                Some(BufferIdentity {
                    flags: vk::BufferCreateFlags::from_raw(u32_of(v[0])?),
                    size: v[1],
                    usage: vk::BufferUsageFlags::from_raw(u32_of(v[2])?),
                    sharing_mode: vk::SharingMode::from_raw(i32_of(v[3])?),
                    external_types: vk::ExternalMemoryHandleTypeFlags::from_raw(u32_of(v[4])?),
                })
            })(),
        ),
        ledger::Dedicated::Image(v) => DedicatedIdentity::Image(
            0,
            (|| {
                Some(ImageIdentity {
                    flags: vk::ImageCreateFlags::from_raw(u32_of(v[0])?),
                    image_type: vk::ImageType::from_raw(i32_of(v[1])?),
                    format: vk::Format::from_raw(i32_of(v[2])?),
                    extent: [u32_of(v[3])?, u32_of(v[4])?, u32_of(v[5])?],
                    mip_levels: u32_of(v[6])?,
                    array_layers: u32_of(v[7])?,
                    samples: vk::SampleCountFlags::from_raw(u32_of(v[8])?),
                    tiling: vk::ImageTiling::from_raw(i32_of(v[9])?),
                    usage: vk::ImageUsageFlags::from_raw(u32_of(v[10])?),
                    sharing_mode: vk::SharingMode::from_raw(i32_of(v[11])?),
                    external_types: vk::ExternalMemoryHandleTypeFlags::from_raw(u32_of(v[12])?),
                })
            })(),
        ),
    }
}

/// This process's ledger entry for a payload whose exported fd it holds as `dup`.
fn ledger_entry(
    exporter: &ExporterFacts,
    id: FileId,
    dup: i32,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
) -> Entry {
    let pid = std::process::id();
    Entry {
        pid,
        start_time: ledger::start_time(pid).unwrap_or(0),
        fd: dup,
        dev: id.dev,
        ino: id.ino,
        unique: id.unique,
        handle_type: handle_type.as_raw(),
        device_uuid: exporter.side.device_uuid,
        driver_uuid: exporter.side.driver_uuid,
        allocation_size: exporter.allocation_size,
        memory_type_index: exporter.memory_type_index,
        dedicated: dedicated_to_ledger(&exporter.dedicated),
        releases: Vec::new(),
    }
}

/// Publishes a release of payload `payload` (to `family`, in `layout`) in this process's
/// ledger entry, for an acquiring process to pair with.
pub fn ledger_release(payload: u64, family: u32, layout: vk::ImageLayout) {
    let time_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    with(|r| {
        let Some((ledger, entry)) = r.payloads.get_mut(&payload).and_then(|p| p.ledger.as_mut())
        else {
            return;
        };
        if entry.releases.len() >= ledger::entry::MAX_RELEASES {
            entry.releases.remove(0);
        }
        entry.releases.push(ledger::Release {
            layout: layout.as_raw(),
            family,
            time_ns,
        });
        if let Err(e) = ledger.publish(entry) {
            tracing::warn!(target: "handoff", error = %e, "ledger: cannot publish a release");
        }
    });
}

/// The last release another process published for the payload `memory` was imported from:
/// `(queue family, newLayout)`.
pub fn remote_release(device: vk::Device, memory: u64) -> Option<(u32, vk::ImageLayout)> {
    let remote = read(|r| r.remote.get(&(device.as_raw(), memory)).cloned())?;
    let e = remote.ledger.read(remote.key, remote.pid, remote.fd)?;
    e.last_release()
        .map(|r| (r.family, vk::ImageLayout::from_raw(r.layout)))
}

/// Whether any memory of this process was imported from another process's ledger entry
/// (a cheap test before the per-memory lookup).
pub fn has_remote_imports() -> bool {
    read(|r| !r.remote.is_empty())
}

/// Records a successful `vkGetMemoryFdKHR`: keeps a duplicate of `fd` under the payload of
/// `memory` (creating the payload, with `memory` as its exporter, on the first export).
pub fn after_export(
    data: &DeviceData,
    memory: vk::DeviceMemory,
    rec: &MemoryRecord,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    fd: i32,
) {
    let device = data.handle;
    let Some(id) = file_id(fd) else {
        return;
    };
    let owner = (device.as_raw(), memory.as_raw());
    let dedicated = dedicated_identity(device, rec.dedicated);
    let ledger_dir = open_ledger(data);
    let mut log_cap = false;
    let pid = with(|r| {
        // The number is the app's fresh fd now, whatever an earlier import did with it.
        r.consumed.remove(&fd);
        let pid = match rec.payload.filter(|p| r.payloads.contains_key(p)) {
            Some(p) => p,
            None => {
                r.next_id += 1;
                let p = r.next_id;
                let exporter = ExporterFacts {
                    side: device_side(data),
                    memory: memory.as_raw(),
                    allocation_size: rec.size,
                    memory_type_index: rec.type_index,
                    dedicated,
                    device_mask: (rec.device_mask != 0).then_some(rec.device_mask),
                    process: None,
                };
                r.payloads.insert(
                    p,
                    Payload {
                        exporter,
                        held: SmallVec::new(),
                        ledger: None,
                    },
                );
                p
            }
        };
        let known = r.payloads.get(&pid).is_some_and(|p| {
            p.held.iter().any(|h| {
                h.handle_type == handle_type
                    && h.id.dev == id.dev
                    && h.id.ino == id.ino
                    && same_open_file(fd, h.fd.as_raw_fd()) == Some(true)
            })
        });
        if known {
            return pid;
        }
        let Some(owned) = r.dup_to_hold(fd, &mut log_cap) else {
            return pid;
        };
        let dup = owned.as_raw_fd();
        if let Some(p) = r.payloads.get_mut(&pid) {
            p.held.push(Held {
                fd: owned,
                id,
                handle_type,
                owner,
            });
            index_held(&mut r.by_file, id, pid);
            r.held += 1;
            if p.ledger.is_none() {
                if let Some(ledger) = ledger_dir.clone() {
                    let entry = ledger_entry(&p.exporter, id, dup, handle_type);
                    match ledger.publish(&entry) {
                        Ok(()) => p.ledger = Some((ledger, entry)),
                        Err(e) => {
                            tracing::warn!(target: "handoff", error = %e, "ledger: cannot publish an export")
                        }
                    }
                }
            }
        }
        r.index_if_many();
        pid
    });
    if log_cap {
        warn_cap();
    }
    if rec.payload != Some(pid) {
        state::set_memory_payload(device, memory, Some(pid));
    }
}

/// Forgets what `memory` (whose record was `rec`) exported or imported, closing the held
/// duplicates. Memory that neither exported nor imported never reached the registry.
pub fn memory_freed(device: vk::Device, memory: vk::DeviceMemory, rec: Option<&MemoryRecord>) {
    let Some(rec) = rec else {
        return;
    };
    if rec.export_types.is_empty() && rec.import_type.is_empty() && rec.payload.is_none() {
        return;
    }
    let gone = with(|r| r.drop_memory(device.as_raw(), memory.as_raw(), rec.payload));
    forget_payloads(gone);
}

/// The ownership state shared through a payload goes with the payload.
fn forget_payloads(gone: impl IntoIterator<Item = u64>) {
    for p in gone {
        state::ownership::remove_payload(p);
    }
}

/// Forgets everything of `device`.
pub fn device_destroyed(device: vk::Device) {
    let d = device.as_raw();
    let gone = with(|r| r.drop_where(|dev, _| dev == d));
    forget_payloads(gone);
    with(|r| r.drop_sync(|dev, _, _| dev == d));
    // The semaphore and fence records of the device go with its payloads.
    crate::state::sync::remove_device(device);
}

// ---- Semaphore and fence payloads (sync.rs) ------------------------------------------
//
// Only OPAQUE_FD exports are held: their identity carries the exporter's device, flags and
// type (01544, 01541, 03263, 03264, 03323). A SYNC_FD is a copy of one signal, compatible
// everywhere, so holding it would prove nothing.

struct SyncHeld {
    fd: OwnedFd,
    id: FileId,
    exporter: SyncExporter,
}

impl Registry {
    fn find_sync(&self, fd: i32, id: FileId) -> Option<SyncExporter> {
        self.sync
            .iter()
            .find(|h| same_payload(fd, id, h.fd.as_raw_fd(), h.id))
            .map(|h| h.exporter.clone())
    }

    fn drop_sync(&mut self, gone: impl Fn(u64, Option<SyncKind>, u64) -> bool) {
        let before = self.sync.len();
        self.sync
            .retain(|h| !gone(h.exporter.side.device, h.exporter.kind, h.exporter.object));
        self.held = self.held.saturating_sub(before - self.sync.len());
        if self.sync.is_empty() {
            self.sync.shrink_to_fit();
        }
    }
}

/// Where an fd given to a semaphore or fence import came from, as far as this process saw.
pub fn sync_origin(fd: i32) -> FdOrigin {
    let Some(id) = file_id(fd) else {
        return FdOrigin::Unknown;
    };
    read(|r| {
        if let Some(e) = r.find_sync(fd, id) {
            return FdOrigin::Sync(e);
        }
        r.find(fd, id)
            .and_then(|(pid, _)| r.payloads.get(&pid))
            .map_or(FdOrigin::Unknown, |p| FdOrigin::Memory {
                device: p.exporter.side.device,
                memory: p.exporter.memory,
            })
    })
}

/// Records a successful OPAQUE_FD `vkGet{Semaphore,Fence}FdKHR`: keeps a duplicate of `fd`
/// with the exporter's facts (`exporter.side` is filled in here).
pub fn after_sync_export(data: &DeviceData, mut exporter: SyncExporter, fd: i32) {
    let Some(id) = file_id(fd) else {
        return;
    };
    let mut log_cap = false;
    with(|r| {
        // The number is the app's fresh fd now, whatever an earlier import did with it.
        r.consumed.remove(&fd);
        let known = r.sync.iter().any(|h| {
            h.exporter.kind == exporter.kind
                && h.exporter.object == exporter.object
                && h.id == id
                && same_open_file(fd, h.fd.as_raw_fd()) == Some(true)
        });
        if known {
            return;
        }
        let Some(owned) = r.dup_to_hold(fd, &mut log_cap) else {
            return;
        };
        exporter.side = device_side(data);
        r.sync.push(SyncHeld {
            fd: owned,
            id,
            exporter,
        });
        r.held += 1;
    });
    if log_cap {
        warn_cap();
    }
}

/// Forgets the exports of a destroyed semaphore or fence (closing the held duplicates).
pub fn sync_destroyed(device: vk::Device, kind: SyncKind, object: u64) {
    let d = device.as_raw();
    with(|r| r.drop_sync(|dev, k, o| dev == d && k == Some(kind) && o == object));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memfd() -> OwnedFd {
        // SAFETY: memfd_create with a valid name; owned right away.
        let fd = unsafe { libc::memfd_create(c"handoff-payload-test".as_ptr(), 0) };
        assert!(fd >= 0);
        // SAFETY: a new fd nothing else owns.
        unsafe { OwnedFd::from_raw_fd(fd) }
    }

    #[test]
    fn memfd_identity() {
        let a = memfd();
        let b = memfd();
        let ia = file_id(a.as_raw_fd()).unwrap();
        let ib = file_id(b.as_raw_fd()).unwrap();
        assert!(ia.unique);
        assert_ne!((ia.dev, ia.ino), (ib.dev, ib.ino));
        let dup = a.try_clone().unwrap();
        let id = file_id(dup.as_raw_fd()).unwrap();
        assert!(same_payload(dup.as_raw_fd(), id, a.as_raw_fd(), ia));
        assert!(!same_payload(b.as_raw_fd(), ib, a.as_raw_fd(), ia));
        // Reopened through procfs: another open file, the same memfd inode.
        let path = format!("/proc/self/fd/{}", a.as_raw_fd());
        let reopened = std::fs::OpenOptions::new().read(true).open(path).unwrap();
        let ir = file_id(reopened.as_raw_fd()).unwrap();
        assert!(same_payload(reopened.as_raw_fd(), ir, a.as_raw_fd(), ia));
        if let Some(same) = same_open_file(reopened.as_raw_fd(), a.as_raw_fd()) {
            assert!(!same);
            assert_eq!(same_open_file(dup.as_raw_fd(), a.as_raw_fd()), Some(true));
        }
    }

    #[test]
    fn the_inode_index_files_each_duplicate_once() {
        let mut by_file = Some(FileIndex::default());
        let a = file_id(memfd().as_raw_fd()).unwrap();
        // Payload 1 holds two duplicates of one inode, payload 2 one.
        index_held(&mut by_file, a, 1);
        index_held(&mut by_file, a, 1);
        index_held(&mut by_file, a, 2);
        unindex_held(&mut by_file, a, 1);
        let ix = by_file.as_ref().unwrap();
        assert_eq!(ix[&(a.dev, a.ino)].as_slice(), &[2, 1]);
        unindex_held(&mut by_file, a, 1);
        unindex_held(&mut by_file, a, 2);
        assert!(by_file.as_ref().unwrap().is_empty());
        // Taking back what was never filed changes nothing.
        unindex_held(&mut by_file, a, 3);
        assert!(by_file.as_ref().unwrap().is_empty());
        // Without an index, filing is a no-op.
        let mut none = None;
        index_held(&mut none, a, 1);
        unindex_held(&mut none, a, 1);
        assert!(none.is_none());
    }

    /// A registry holding `n` payloads, each one memfd export of memory `pid` of device 1.
    fn registry_of(n: u64) -> (Registry, Vec<OwnedFd>) {
        let mut r = Registry::default();
        let mut apps = Vec::new();
        for pid in 1..=n {
            let app = memfd();
            let id = file_id(app.as_raw_fd()).unwrap();
            let mut held = SmallVec::new();
            held.push(Held {
                fd: app.try_clone().unwrap(),
                id,
                handle_type: OPAQUE,
                owner: (1, pid),
            });
            let exporter = ExporterFacts {
                memory: pid,
                side: DeviceSide {
                    device: 1,
                    ..Default::default()
                },
                ..Default::default()
            };
            r.payloads.insert(
                pid,
                Payload {
                    exporter,
                    held,
                    ledger: None,
                },
            );
            index_held(&mut r.by_file, id, pid);
            r.index_if_many();
            apps.push(app);
        }
        (r, apps)
    }

    #[test]
    fn imports_find_their_payload_with_and_without_the_index() {
        for n in [3, INDEX_FROM as u64 + 5] {
            let (mut r, apps) = registry_of(n);
            assert_eq!(r.by_file.is_some(), n > INDEX_FROM as u64, "{n} payloads");
            for (i, app) in apps.iter().enumerate() {
                let fd = app.try_clone().unwrap();
                let id = file_id(fd.as_raw_fd()).unwrap();
                assert_eq!(r.find(fd.as_raw_fd(), id), Some((i as u64 + 1, OPAQUE)));
            }
            let stranger = memfd();
            let id = file_id(stranger.as_raw_fd()).unwrap();
            assert_eq!(r.find(stranger.as_raw_fd(), id), None);
            // Freeing the exporters forgets their payloads, the index included, and the
            // index goes once few payloads are left.
            for pid in 1..=n {
                assert_eq!(r.drop_memory(1, pid, Some(pid)), Some(pid));
                let fd = apps[pid as usize - 1].as_raw_fd();
                assert_eq!(r.find(fd, file_id(fd).unwrap()), None);
            }
            assert!(r.payloads.is_empty());
            assert!(r.by_file.is_none());
        }
    }

    #[test]
    fn char_devices_need_kcmp() {
        let a = std::fs::File::open("/dev/null").unwrap();
        let b = std::fs::File::open("/dev/null").unwrap();
        let ia = file_id(a.as_raw_fd()).unwrap();
        let ib = file_id(b.as_raw_fd()).unwrap();
        assert!(!ia.unique);
        assert_eq!((ia.dev, ia.ino), (ib.dev, ib.ino));
        // Same inode, two opens: not the same payload.
        assert!(!same_payload(b.as_raw_fd(), ib, a.as_raw_fd(), ia));
        let dup = a.try_clone().unwrap();
        let id = file_id(dup.as_raw_fd()).unwrap();
        if same_open_file(dup.as_raw_fd(), a.as_raw_fd()).is_some() {
            assert!(same_payload(dup.as_raw_fd(), id, a.as_raw_fd(), ia));
        }
    }
}
