//! The process-wide payload registry: which open files are payloads exported by Vulkan in
//! this process, and who exported them (RULES-TARGET §2.2 G1–G5, G14).
//!
//! When `vkGetMemoryFdKHR` succeeds the layer files the export, with the exporter's facts,
//! under the inode of the returned fd (on a driver that exports memfds, lazily: see "Lazy
//! exports" below). An fd given to an import is matched against the exports of its inode:
//!
//! * `(st_dev, st_ino)` must be equal — a different inode is a different file, always;
//! * equal inodes prove the same payload for inodes that are unique per payload: memfds
//!   (the `/memfd:` link) and dma-bufs. Such an export needs no duplicate: the exporting
//!   memory keeps its inode alive, and the export is forgotten with that memory;
//! * otherwise `kcmp(KCMP_FILE)` against a duplicate (`F_DUPFD_CLOEXEC`) the layer holds
//!   says whether it is the very same open file. A character device proves nothing by its
//!   inode: NVIDIA hands out `/dev/nvidiactl` fds that share one inode, with a new open file
//!   per export. The ledger (`ledger_dir`) also publishes a held duplicate.
//!
//! The app's fds are never read, closed or consumed: only `fstat`, `readlink` of
//! `/proc/self/fd/N`, `kcmp` and a dup of an fd `vkGetMemoryFdKHR` just returned. Duplicates
//! are closed when the exporting memory is freed or its device destroyed, and at most
//! [`MAX_HELD_FDS`] are held per process.
//!
//! The registry is sharded maps with atomic counters beside them, no process-wide lock.

use crate::dispatch::{self, DeviceData};
use crate::fd::classify_link;
use crate::ledger::{self, Entry, FileKey, Ledger};
use crate::state::FastMap;
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
use smallvec::SmallVec;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::OnceLock;

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
    /// A regular file (a memfd): the memory's own file, the same at every export of it.
    regular: bool,
}

#[inline]
fn file_id(fd: i32) -> Option<FileId> {
    if fd < 0 {
        return None;
    }
    crate::fd::stat(fd).ok().map(|st| file_id_of(fd, st))
}

/// The identity of open fd `fd` from what `fstat` said of it.
#[inline(always)]
fn file_id_of(fd: i32, st: crate::fd::Stat) -> FileId {
    // One inode per payload: a memfd (a regular file on shmem, lavapipe's and the mock's
    // payloads) or a dma-buf. A character device (NVIDIA's /dev/nvidiactl) shares one inode
    // among all payloads. Only what fstat cannot tell apart costs a readlink.
    let unique = match st.file_type {
        libc::S_IFREG => true,
        libc::S_IFCHR | libc::S_IFBLK | libc::S_IFDIR | libc::S_IFIFO | libc::S_IFSOCK => false,
        _ => is_dma_buf(fd),
    };
    FileId {
        dev: st.dev,
        ino: st.ino,
        unique,
        regular: st.file_type == libc::S_IFREG,
    }
}

/// Whether `fd`, of no file type `fstat` names, is a dma-buf (its `/proc/self/fd` link).
#[cold]
#[inline(never)]
fn is_dma_buf(fd: i32) -> bool {
    crate::fd::link(fd).is_some_and(|l| classify_link(&l) == Some(FdKind::DmaBuf))
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

/// One export of a payload: the inode it came out as and, where identity needs it, a
/// duplicate of the exported fd.
struct Export {
    /// Held only where the inode alone cannot name the payload (`FileId::unique` false:
    /// kcmp needs an open file to compare with) or where the ledger publishes it for other
    /// processes. A unique inode stays alive, and so unique, while the exporting memory
    /// does, and the export is forgotten when that memory is freed: no system call, no fd.
    fd: Option<OwnedFd>,
    id: FileId,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    /// `(device, memory)` whose export it is.
    owner: (u64, u64),
}

impl Export {
    /// Whether open fd `fd` (with `id`) is this export's payload.
    fn matches(&self, fd: i32, id: FileId) -> bool {
        match &self.fd {
            Some(held) => same_payload(fd, id, held.as_raw_fd(), self.id),
            None => self.id.unique && id.dev == self.id.dev && id.ino == self.id.ino,
        }
    }
}

struct Payload {
    id: u64,
    exporter: ExporterFacts,
    /// The last import found to match the exporter (`opaque_import` said nothing): an
    /// import with the same key gets the same verdict without the comparison.
    clean_import: Option<ImportKey>,
    /// The last import of the quick shape (see [`quick_import`]) whose whole call the rules
    /// found clean: the same import again skips them.
    quick_clean: Option<QuickKey>,
    /// Almost always the one export that made the payload: inline, no allocation.
    exports: SmallVec<[Export; 1]>,
    /// This process's ledger entry for the payload (`ledger_dir`), republished at each
    /// release. Boxed: most payloads have none, and every payload is moved at least once.
    ledger: Option<Box<(Ledger, Entry)>>,
}

impl Payload {
    /// Moves the exports whose owner `gone` names out to `out` (their order does not
    /// matter).
    fn take_exports(&mut self, gone: impl Fn((u64, u64)) -> bool, mut out: impl FnMut(Export)) {
        let mut i = 0;
        while i < self.exports.len() {
            if gone(self.exports[i].owner) {
                out(self.exports.swap_remove(i));
            } else {
                i += 1;
            }
        }
    }

    /// Takes this process's ledger entry for the payload back (it is being forgotten).
    fn withdraw(&self) {
        if let Some(l) = &self.ledger {
            let (ledger, e) = &**l;
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

/// A `FastMap` with its entry count kept beside it, so that "is it empty" (the common
/// answer) costs one load instead of a read lock on every shard.
struct CountedMap<K, V> {
    map: FastMap<K, V>,
    len: AtomicUsize,
}

impl<K: Eq + std::hash::Hash, V> CountedMap<K, V> {
    fn new() -> Self {
        CountedMap {
            map: state::fast_map(),
            len: AtomicUsize::new(0),
        }
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.len.load(Ordering::Relaxed) == 0
    }

    fn insert(&self, k: K, v: V) {
        if self.map.insert(k, v).is_none() {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[inline(always)]
    fn remove(&self, k: &K) -> Option<V> {
        if self.is_empty() {
            return None;
        }
        self.remove_present(k)
    }

    /// [`CountedMap::remove`] once the map is known not to be empty.
    #[inline(never)]
    fn remove_present(&self, k: &K) -> Option<V> {
        let v = self.map.remove(k).map(|(_, v)| v);
        if v.is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        v
    }

    #[inline]
    fn remove_if(&self, k: &K, f: impl FnOnce(&V) -> bool) {
        if !self.is_empty() && self.map.remove_if(k, |_, v| f(v)).is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Changes the value under `k` in place, inserting a default one first.
    fn update(&self, k: K, f: impl FnOnce(&mut V))
    where
        V: Default,
    {
        match self.map.entry(k) {
            dashmap::Entry::Occupied(mut o) => f(o.get_mut()),
            dashmap::Entry::Vacant(v) => {
                f(v.insert(V::default()).value_mut());
                self.len.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn remove_if_mut(&self, k: &K, f: impl FnOnce(&mut V) -> bool) {
        if !self.is_empty() && self.map.remove_if_mut(k, |_, v| f(v)).is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn retain(&self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        if self.is_empty() {
            return;
        }
        self.map.retain(|k, v| {
            let kept = keep(k, v);
            if !kept {
                self.len.fetch_sub(1, Ordering::Relaxed);
            }
            kept
        });
    }
}

/// `(st_dev, st_ino)` of an exported fd.
type Inode = (u64, u64);

/// Everything `opaque_import` reads of an import besides the exporter's facts, where the
/// import names no dedicated resource: the importing device stands for its side (UUIDs,
/// instance, device group), which cannot change while it lives (`device_destroyed` forgets
/// its verdicts before the handle can come back).
#[derive(Clone, Copy, PartialEq, Eq)]
struct ImportKey {
    device: u64,
    size: u64,
    type_index: u32,
    device_mask: Option<u32>,
}

/// The one import shape with a quick path: `VkImportMemoryFdInfoKHR` alone in the chain,
/// an OPAQUE_FD or DMA_BUF import, of an fd that can hold memory. Every rule of such a call
/// reads only these fields, the fd's payload and the importing device (whose facts cannot
/// change while it lives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuickShape {
    pub device: u64,
    pub size: u64,
    pub type_index: u32,
    pub handle_type: vk::ExternalMemoryHandleTypeFlags,
}

/// A [`QuickShape`] with the handle type of the export the import's fd was found as (the
/// opaque comparison runs only between two OPAQUE_FD handles).
#[derive(Clone, Copy, PartialEq, Eq)]
struct QuickKey {
    shape: QuickShape,
    export_type: vk::ExternalMemoryHandleTypeFlags,
}

/// What [`Registry::find`] found for an imported fd.
#[derive(Clone, Copy)]
struct Found {
    pid: u64,
    home: Inode,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    /// The import's key matched the payload's last clean import.
    judged_clean: bool,
}

/// The registry: sharded maps and counters, no process-wide lock. No two of its locks are
/// ever held at once (every operation copies what it needs out of one map before it
/// touches the next), so they need no order among themselves.
struct Registry {
    /// Written by every first export: on lines of its own (see [`state::CacheLine`]).
    next_id: state::CacheLine<AtomicU64>,
    /// The payloads, filed under the inode of their first export (their home): an import
    /// looks its fd's inode up here, since only an export of the same inode can be the
    /// same payload (`same_payload`). One entry per payload for memfds and dma-bufs; a
    /// character device (NVIDIA) files all its payloads under its one inode.
    /// Boxed: a payload is a few hundred bytes, and the box is moved instead of them each
    /// time an entry is filed, rehashed or removed.
    files: FastMap<Inode, SmallVec<[Box<Payload>; 1]>>,
    /// Exports of a payload under another inode than its home (another handle type of the
    /// same memory, a re-export of imported memory): that inode → `(payload, home)`.
    aliases: CountedMap<Inode, SmallVec<[(u64, Inode); 1]>>,
    /// Duplicates held (memory and sync exports), against [`MAX_HELD_FDS`].
    held: AtomicUsize,
    cap_logged: AtomicBool,
    /// fd number → the import that consumed it while the driver keeps it open.
    consumed: CountedMap<i32, Consumed>,
    /// `(device, memory)` imported from a payload another process published in the ledger.
    remote: CountedMap<(u64, u64), Remote>,
    /// `(dev, ino)` → duplicates of OPAQUE_FD semaphore and fence exports (they count
    /// toward `held`).
    sync: CountedMap<Inode, SmallVec<[SyncHeld; 1]>>,
}

#[link_section = ".data.handoff_hot"]
static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The registry, built by the first call that needs it. A `OnceLock` rather than a
/// `LazyLock`: `LazyLock`'s deref reached `Once::call_once_force` out of line on every
/// export of the external-memory cycle (a call to a page of its own); this check is one
/// load inlined. `Once` waits on a futex, never on a thread handle (see ARCHITECTURE.md).
#[inline(always)]
fn registry() -> &'static Registry {
    match REGISTRY.get() {
        Some(r) => r,
        None => registry_first(),
    }
}

#[cold]
#[inline(never)]
fn registry_first() -> &'static Registry {
    REGISTRY.get_or_init(Registry::new)
}

/// The box of the last payload freed, for the next first export (see `spare`).
#[link_section = ".data.handoff_hot"]
static SPARE: crate::spare::Spare<Payload> = crate::spare::Spare::new();

/// For fork.rs, which holds them across fork().
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 5] {
    let r = registry();
    [
        &r.files,
        &r.aliases.map,
        &r.consumed.map,
        &r.remote.map,
        &r.sync.map,
    ]
}

impl Registry {
    fn new() -> Registry {
        Registry {
            next_id: state::CacheLine(AtomicU64::new(0)),
            files: state::fast_map(),
            aliases: CountedMap::new(),
            held: AtomicUsize::new(0),
            cap_logged: AtomicBool::new(false),
            consumed: CountedMap::new(),
            remote: CountedMap::new(),
            sync: CountedMap::new(),
        }
    }

    /// A duplicate of `fd` (which the driver just returned) for the registry to hold,
    /// counted in `held`; `None` when [`MAX_HELD_FDS`] are held (warning once) or the dup
    /// fails.
    fn dup_to_hold(&self, fd: i32) -> Option<OwnedFd> {
        if self.held.fetch_add(1, Ordering::Relaxed) >= MAX_HELD_FDS {
            self.held.fetch_sub(1, Ordering::Relaxed);
            if !self.cap_logged.swap(true, Ordering::Relaxed) {
                warn_cap();
            }
            return None;
        }
        // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor of the open file `fd`; the original
        // stays the app's, untouched.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            self.held.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        // SAFETY: `dup` is a new descriptor that nothing else owns.
        Some(unsafe { OwnedFd::from_raw_fd(dup) })
    }

    /// Gives back `n` duplicates' places (they were closed with their exports).
    fn release_held(&self, n: usize) {
        if n > 0 {
            self.held.fetch_sub(n, Ordering::Relaxed);
        }
    }

    /// Files `payload` at `home`, unless a payload with its id is filed there already (an
    /// export and the resolution of one lazily exported payload can meet: see
    /// [`export_lazily`]).
    fn file(&self, home: Inode, payload: Box<Payload>) {
        let _refiled = Refiled;
        let mut ps = self.files.entry(home).or_default();
        if !ps.iter().any(|p| p.id == payload.id) {
            ps.push(payload);
            return;
        }
        drop(ps);
        self.forget_exports(payload.id, home, &payload.exports);
        SPARE.give_back(payload);
    }

    /// The payload `fd` (open, with `id`) is, with the matching export's handle type, and
    /// whether `import` is the payload's last clean import.
    fn find(&self, fd: i32, id: FileId, import: Option<ImportKey>) -> Option<Found> {
        let key = (id.dev, id.ino);
        let in_home = |home: Inode, pid: Option<u64>| {
            let ps = self.files.get(&home)?;
            ps.iter()
                .filter(|p| pid.is_none_or(|pid| p.id == pid))
                .find_map(|p| {
                    let e = p.exports.iter().find(|e| e.matches(fd, id))?;
                    Some(Found {
                        pid: p.id,
                        home,
                        handle_type: e.handle_type,
                        judged_clean: import.is_some() && p.clean_import == import,
                    })
                })
        };
        if let Some(found) = in_home(key, None) {
            return Some(found);
        }
        if self.aliases.is_empty() {
            return None;
        }
        let homes = self.aliases.map.get(&key)?.clone();
        homes
            .iter()
            .find_map(|&(pid, home)| in_home(home, Some(pid)))
    }

    /// The facts of the exporter of payload `pid` (filed at `home`).
    fn exporter(&self, pid: u64, home: Inode) -> Option<ExporterFacts> {
        let ps = self.files.get(&home)?;
        ps.iter().find(|p| p.id == pid).map(|p| p.exporter.clone())
    }

    /// `f` on payload `pid` (filed at `home`), if it is there.
    fn update(&self, pid: u64, home: Inode, f: impl FnOnce(&mut Payload)) {
        if let Some(mut ps) = self.files.get_mut(&home) {
            if let Some(p) = ps.iter_mut().find(|p| p.id == pid) {
                f(p);
            }
        }
    }

    /// Remembers that `import` found payload `pid` matching its exporter.
    fn judged_clean(&self, pid: u64, home: Inode, import: ImportKey) {
        self.update(pid, home, |p| p.clean_import = Some(import));
    }

    /// [`Registry::find`] for a quick import of `shape`: the payload `fd` is, when it is filed
    /// at `fd`'s own inode (its home) and its last clean quick import was `shape` (else the
    /// full checks run, aliases included).
    fn find_quick(&self, fd: i32, id: FileId, shape: QuickShape) -> Option<u64> {
        let home = (id.dev, id.ino);
        let ps = self.files.get(&home)?;
        // An open file is one payload's at most, so the payloads without this verdict can be
        // passed over before their exports are compared (a `kcmp` for a device node).
        for p in ps.iter() {
            let Some(key) = p.quick_clean.filter(|k| k.shape == shape) else {
                continue;
            };
            if let Some(e) = p.exports.iter().find(|e| e.matches(fd, id)) {
                return (key.export_type == e.handle_type).then_some(p.id);
            }
        }
        None
    }

    /// Remembers that a quick import (`key`) of payload `pid` was clean.
    fn quick_judged_clean(&self, pid: u64, home: Inode, key: QuickKey) {
        let _refiled = Refiled;
        self.update(pid, home, |p| p.quick_clean = Some(key));
    }

    /// Files an export of payload `pid` (at home `home`) made under another inode.
    fn alias(&self, key: Inode, pid: u64, home: Inode) {
        self.aliases.update(key, |v| v.push((pid, home)));
    }

    /// Forgets exports of payload `pid` (at home `home`) that are leaving: their aliases
    /// and their duplicates' places.
    #[inline]
    fn forget_exports(&self, pid: u64, home: Inode, exports: &[Export]) {
        // No alias filed at all (the common case): only the held duplicates to count.
        let aliased = !self.aliases.is_empty();
        let mut held = 0;
        for e in exports {
            held += usize::from(e.fd.is_some());
            let key = (e.id.dev, e.id.ino);
            if aliased && key != home {
                self.aliases.remove_if_mut(&key, |v| {
                    if let Some(i) = v.iter().position(|&a| a == (pid, home)) {
                        v.swap_remove(i);
                    }
                    v.is_empty()
                });
            }
        }
        self.release_held(held);
    }

    /// Gives back the tables of emptied shards. The maps never shrink on the hot paths (a
    /// shrink locks every shard); a device's destruction is where whole shards empty.
    fn shrink(&self) {
        self.files.shrink_to_fit();
        self.aliases.map.shrink_to_fit();
        self.consumed.map.shrink_to_fit();
        self.remote.map.shrink_to_fit();
        self.sync.map.shrink_to_fit();
    }

    /// Forgets the payloads exported by, the exports made by and the imports made by the
    /// `(device, memory)` pairs `gone` names; returns the payloads forgotten.
    fn drop_where(&self, gone: impl Fn(u64, u64) -> bool) -> Vec<u64> {
        let _refiled = Refiled;
        let mut dropped = Vec::new();
        let mut left: Vec<(u64, Inode, Export)> = Vec::new();
        self.files.retain(|&home, ps| {
            ps.retain(|p| {
                if gone(p.exporter.side.device, p.exporter.memory) {
                    dropped.push(p.id);
                    p.withdraw();
                    left.extend(p.exports.drain(..).map(|e| (p.id, home, e)));
                    return false;
                }
                if p.clean_import.is_some_and(|k| gone(k.device, 0)) {
                    p.clean_import = None;
                }
                if p.quick_clean.is_some_and(|k| gone(k.shape.device, 0)) {
                    p.quick_clean = None;
                }
                let pid = p.id;
                p.take_exports(|(d, m)| gone(d, m), |e| left.push((pid, home, e)));
                true
            });
            !ps.is_empty()
        });
        for (pid, home, e) in left {
            self.forget_exports(pid, home, std::slice::from_ref(&e));
        }
        self.remote.retain(|&(d, m), _| !gone(d, m));
        self.consumed
            .retain(|_, c| !gone(c.facts.device, c.facts.memory));
        dropped
    }

    /// What [`Registry::drop_where`] does for one memory object, without visiting the other
    /// payloads: everything a memory object exported lives in the payload its record names
    /// (`after_export` files each export there).
    fn drop_memory(&self, device: u64, memory: u64, pid: u64, home: Inode) -> Option<u64> {
        let _refiled = Refiled;
        let owner = (device, memory);
        // The common payload: the only one filed at its home, exported by this memory. Its
        // entry goes whole.
        let alone = self.files.remove_if(&home, |_, ps| {
            ps.len() == 1
                && ps[0].id == pid
                && (ps[0].exporter.side.device, ps[0].exporter.memory) == owner
        });
        if let Some(p) = alone.and_then(|(_, mut ps)| ps.pop()) {
            self.remote.remove(&owner);
            self.forget_payload(pid, home, &p);
            SPARE.give_back(p);
            return Some(pid);
        }
        let mut removed = None;
        let mut left: SmallVec<[Export; 1]> = SmallVec::new();
        self.files.remove_if_mut(&home, |_, ps| {
            if let Some(i) = ps.iter().position(|p| p.id == pid) {
                let p = &mut ps[i];
                if (p.exporter.side.device, p.exporter.memory) == owner {
                    removed = Some(ps.swap_remove(i));
                } else {
                    p.take_exports(|o| o == owner, |e| left.push(e));
                }
            }
            ps.is_empty()
        });
        self.remote.remove(&owner);
        match removed {
            Some(p) => {
                self.forget_payload(pid, home, &p);
                SPARE.give_back(p);
                Some(pid)
            }
            None => {
                self.forget_exports(pid, home, &left);
                None
            }
        }
    }

    /// What goes with payload `pid` (filed at `home`) once it left the map: its ledger
    /// entry, its aliases and its duplicates' places.
    #[inline]
    fn forget_payload(&self, pid: u64, home: Inode, p: &Payload) {
        p.withdraw();
        // The common payload: one export, filed at its home, no duplicate held.
        if p.exports
            .iter()
            .any(|e| e.fd.is_some() || (e.id.dev, e.id.ino) != home)
        {
            self.forget_exports(pid, home, &p.exports);
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
        group: data.group_raw.clone(),
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
    /// Where that payload is filed (see [`Registry::files`]).
    payload_home: Inode,
    /// The handle type of the export the fd was found as.
    export_type: vk::ExternalMemoryHandleTypeFlags,
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

    /// Whether the allocation imported an fd the registry could identify (else
    /// [`after_import`] has nothing to do).
    pub fn is_import(&self) -> bool {
        self.id.is_some()
    }

    /// The payload the imported fd was recognised as.
    pub fn payload(&self) -> Option<u64> {
        self.payload
    }

    /// Where that payload is filed, for [`MemoryRecord::payload_home`].
    pub fn payload_home(&self) -> (u64, u64) {
        self.payload_home
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

/// What [`quick_import`] found: the import's fd and the payload it is.
#[derive(Clone, Copy)]
pub struct QuickImport {
    fd: i32,
    /// The fd's identity; the payload is filed at its inode (see [`Registry::find_quick`]).
    id: FileId,
    pid: u64,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    /// One of the quick imports that ask whether the driver closed the fd, whatever was
    /// learnt (see [`after_quick_import`]).
    ask_closed: bool,
}

impl QuickImport {
    /// The payload, and where it is filed, for the memory's record.
    pub fn payload(&self) -> (u64, Inode) {
        (self.pid, (self.id.dev, self.id.ino))
    }
}

/// A repeat of a clean import of the quick shape: `Some` (what [`after_quick_import`] needs)
/// when `fd` (open, `stat` being its `fstat`) is an export of a payload the registry knows,
/// filed at its own inode, an import of the same shape of that payload was judged clean
/// (see [`quick_import_was_clean`]), and the fd number is not one an earlier import
/// consumed. `None`: the full checks must run.
///
/// The fd needs no classifying: an open file whose identity is a known export's is that
/// export's payload, of the kind (memfd, dma-buf, device node) the clean import saw.
#[inline(always)]
pub fn quick_import(shape: QuickShape, fd: i32, stat: crate::fd::Stat) -> Option<QuickImport> {
    let id = file_id_of(fd, stat);
    let r = registry();
    let (memo, ask_closed) = quick_memo::get(id, shape);
    let pid = match memo {
        Ok(pid) => pid,
        Err(filed) => {
            let pid = r.find_quick(fd, id, shape)?;
            quick_memo::put(filed, id, shape, pid);
            pid
        }
    };
    if !r.consumed.is_empty() && r.consumed.map.contains_key(&fd) {
        return None;
    }
    Some(QuickImport {
        fd,
        id,
        pid,
        handle_type: shape.handle_type,
        ask_closed,
    })
}

/// Counts every change of [`Registry::files`] (a payload filed, changed or removed), for the
/// per-thread memo of quick imports.
#[link_section = ".data.handoff_hot"]
static FILED: state::CacheLine<AtomicU64> = state::CacheLine(AtomicU64::new(0));

/// Marks the memos of [`quick_memo`] stale when dropped: held by every change of the files
/// map, so that the count moves after the change (a memo stamped before its lookup then
/// never outlives a change its lookup missed).
struct Refiled;

impl Drop for Refiled {
    #[inline]
    fn drop(&mut self) {
        FILED.fetch_add(1, Ordering::Release);
    }
}

/// This thread's last answer of [`Registry::find_quick`], for a regular file (a memfd: its
/// inode alone names its payload, see [`Export::matches`]): while no payload was filed,
/// changed or removed since (`FILED`), a repeat of the same import gets the same answer
/// without the map.
mod quick_memo {
    use super::{FileId, QuickShape, FILED};
    use std::cell::Cell;
    use std::sync::atomic::Ordering;

    /// `pid` is filed at `(dev, ino)` (its home: `find_quick` looks only there).
    #[derive(Clone, Copy)]
    struct Memo {
        filed: u64,
        dev: u64,
        ino: u64,
        shape: QuickShape,
        pid: u64,
    }

    /// The memo, and this thread's count of quick imports (see `CLOSE_SAMPLE`): one
    /// thread-local, one lookup of it per import.
    struct Local {
        last: Cell<Memo>,
        imports: Cell<u32>,
    }

    thread_local! {
        // No count is ever `u64::MAX`: empty until the first `put`.
        static LOCAL: Local = const {
            Local {
                last: Cell::new(Memo {
                    filed: u64::MAX,
                    dev: 0,
                    ino: 0,
                    shape: QuickShape {
                        device: 0,
                        size: 0,
                        type_index: 0,
                        handle_type: ash::vk::ExternalMemoryHandleTypeFlags::empty(),
                    },
                    pid: 0,
                }),
                imports: Cell::new(0),
            }
        };
    }

    /// The memo's answer, or the stamp to [`put`] the answer of a lookup made after it; and
    /// whether this import is one in `CLOSE_SAMPLE` of this thread.
    #[inline(always)]
    pub(super) fn get(id: FileId, shape: QuickShape) -> (Result<u64, u64>, bool) {
        let filed = FILED.load(Ordering::Acquire);
        LOCAL.with(|l| {
            let n = l.imports.get().wrapping_add(1);
            l.imports.set(n);
            let ask = n.is_multiple_of(super::CLOSE_SAMPLE);
            if !id.regular {
                return (Err(filed), ask);
            }
            let m = l.last.get();
            if m.filed == filed && m.dev == id.dev && m.ino == id.ino && m.shape == shape {
                (Ok(m.pid), ask)
            } else {
                (Err(filed), ask)
            }
        })
    }

    /// Remembers `found`, the answer of a lookup made after `filed` was read.
    #[inline(always)]
    pub(super) fn put(filed: u64, id: FileId, shape: QuickShape, pid: u64) {
        if id.regular {
            LOCAL.with(|l| {
                l.last.set(Memo {
                    filed,
                    dev: id.dev,
                    ino: id.ino,
                    shape,
                    pid,
                })
            });
        }
    }
}

/// Remembers that an import of the quick shape, whose full checks said nothing, found the
/// payload `pending` names: the next such import takes [`quick_import`].
pub fn quick_import_was_clean(shape: QuickShape, pending: &PendingImport) {
    if let Some(pid) = pending.payload {
        let key = QuickKey {
            shape,
            export_type: pending.export_type,
        };
        registry().quick_judged_clean(pid, pending.payload_home, key);
    }
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
    let r = registry();
    let key = (imp.handle_type == OPAQUE && call.dedicated.is_none()).then_some(ImportKey {
        device: call.device,
        size: call.allocation_size,
        type_index: call.memory_type_index,
        device_mask: call.device_mask,
    });
    // No payload for the fd: it may be one exported lazily (filed only now).
    let found = r
        .find(imp.fd, id, key)
        .or_else(|| resolve_lazy().then(|| r.find(imp.fd, id, key)).flatten());
    let reused = if r.consumed.is_empty() {
        None
    } else {
        r.consumed.map.get(&imp.fd).and_then(|c| {
            let same = match (c.payload, &found) {
                (Some(a), Some(f)) => a == f.pid,
                _ => c.id == id && id.unique,
            };
            same.then_some(c.facts)
        })
    };
    if let Some(prior) = reused {
        p.findings.push(rules::fd_reused(call, &prior));
        return p;
    }
    if found.is_none() {
        if let Some(exporter) = r.find_sync(imp.fd, id) {
            p.findings
                .push(handoff_rules::checks::sync::memory_import_of_sync(
                    call, &exporter,
                ));
            return p;
        }
    }
    match found {
        Some(f) => {
            p.payload = Some(f.pid);
            p.payload_home = f.home;
            p.export_type = f.handle_type;
            let compare = imp.handle_type == OPAQUE && f.handle_type == OPAQUE && !f.judged_clean;
            if let Some(exporter) = compare.then(|| r.exporter(f.pid, f.home)).flatten() {
                let importer = ImporterFacts {
                    side: device_side(data),
                    dedicated: import_dedicated(data, call),
                };
                let findings = rules::opaque_import(call, &importer, &exporter);
                match key {
                    Some(k) if findings.is_empty() => r.judged_clean(f.pid, f.home, k),
                    _ => p.findings.extend(findings),
                }
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
        registry()
            .remote
            .insert((device.as_raw(), memory.as_raw()), remote.clone());
    }
    consumed_or_not(device, memory, pending.fd, before, pending.payload);
}

/// [`after_import`] of a [`quick_import`].
///
/// Whether the driver closed the fd is a property of the driver and the handle type: once
/// this device's driver was seen closing the fds of quick imports of this type, and never
/// seen keeping one, only one quick import in [`CLOSE_SAMPLE`] asks again (a driver that
/// keeps one is asked every time from then on). The others take the answer as seen: the
/// number is free again.
#[inline(always)]
pub fn after_quick_import(data: &DeviceData, memory: vk::DeviceMemory, quick: &QuickImport) {
    let closes = lazy_bit(quick.handle_type);
    let seen = data.import_fds.load(Ordering::Relaxed);
    if closes != 0 && seen & (closes | closes << 4) == closes && !quick.ask_closed {
        registry().consumed.remove(&quick.fd);
        return;
    }
    ask_if_closed(data, memory, quick);
}

/// [`after_quick_import`] that asks whether the driver closed the fd, and remembers it.
#[inline(never)]
fn ask_if_closed(data: &DeviceData, memory: vk::DeviceMemory, quick: &QuickImport) {
    let closes = lazy_bit(quick.handle_type);
    let keeps = closes << 4;
    let kept = consumed_or_not(data.handle, memory, quick.fd, quick.id, Some(quick.pid));
    learn(&data.import_fds, if kept { keeps } else { closes });
}

/// One quick import in this many (per thread) checks again whether the driver closed its
/// fd. Counted, not drawn from the handles: an app that imports and frees in a loop gets the
/// same memory handle and fd number every time.
const CLOSE_SAMPLE: u32 = 16;

/// Whether the driver kept the imported `fd` (whose identity was `before`) open: if so the
/// number stays consumed by `memory` until that is freed.
fn consumed_or_not(
    device: vk::Device,
    memory: vk::DeviceMemory,
    fd: i32,
    before: FileId,
    payload: Option<u64>,
) -> bool {
    let r = registry();
    // One fstat: it fails on a number the driver closed (EBADF), so no F_GETFD first.
    let still = file_id(fd).is_some_and(|now| now.dev == before.dev && now.ino == before.ino);
    if !still {
        r.consumed.remove(&fd);
        return false;
    }
    // The bound is approximate under concurrent imports; it only keeps the table finite.
    if r.consumed.len.load(Ordering::Relaxed) >= MAX_CONSUMED && !r.consumed.map.contains_key(&fd) {
        tracing::debug!(target: "handoff", fd, "payload registry: consumed-fd table full");
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
            payload,
        },
    );
    true
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
    // Only payloads published in the ledger get here, so a visit of the registry is fine.
    let Some(mut ps) = registry()
        .files
        .iter_mut()
        .find(|ps| ps.iter().any(|p| p.id == payload))
    else {
        return;
    };
    let Some(l) = ps
        .iter_mut()
        .find(|p| p.id == payload)
        .and_then(|p| p.ledger.as_mut())
    else {
        return;
    };
    let time_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let (ledger, entry) = &mut **l;
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
}

/// The last release another process published for the payload `memory` was imported from:
/// `(queue family, newLayout)`.
pub fn remote_release(device: vk::Device, memory: u64) -> Option<(u32, vk::ImageLayout)> {
    let remote = registry()
        .remote
        .map
        .get(&(device.as_raw(), memory))
        .map(|r| r.clone())?;
    let e = remote.ledger.read(remote.key, remote.pid, remote.fd)?;
    e.last_release()
        .map(|r| (r.family, vk::ImageLayout::from_raw(r.layout)))
}

/// Whether any memory of this process was imported from another process's ledger entry
/// (a cheap test before the per-memory lookup).
pub fn has_remote_imports() -> bool {
    !registry().remote.is_empty()
}

/// Records a successful `vkGetMemoryFdKHR`: files the export under the payload of `memory`
/// (creating the payload, with `memory` as its exporter, on the first export), holding a
/// duplicate of `fd` where identity needs one (see [`Export::fd`]).
#[inline]
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
    if id.regular {
        learn_lazy(data, handle_type);
    }
    let r = registry();
    let owner = (device.as_raw(), memory.as_raw());
    // The number is the app's fresh fd now, whatever an earlier import did with it.
    r.consumed.remove(&fd);
    let ledger_dir = if data.reporter.settings.ledger_dir.is_some() {
        open_ledger(data)
    } else {
        None
    };
    let hold = |r: &Registry| {
        if id.unique && ledger_dir.is_none() {
            return Some(None);
        }
        r.dup_to_hold(fd).map(Some)
    };
    let publish = |exporter: &ExporterFacts, dup: Option<&OwnedFd>| {
        let (ledger, dup) = (ledger_dir.clone()?, dup?);
        let entry = ledger_entry(exporter, id, dup.as_raw_fd(), handle_type);
        match ledger.publish(&entry) {
            Ok(()) => Some(Box::new((ledger, entry))),
            Err(e) => {
                tracing::warn!(target: "handoff", error = %e, "ledger: cannot publish an export");
                None
            }
        }
    };
    let key = (id.dev, id.ino);
    // A payload exported lazily is filed now, at this export's inode, under its own id.
    let lazy_type = lazy_type(rec.payload_home);
    let lazy = rec.payload.filter(|_| lazy_type.is_some());
    // Another export of a payload the registry knows (a second fd, another handle type,
    // or a re-export of imported memory).
    if let (Some(pid), None) = (rec.payload, lazy) {
        let home = rec.payload_home;
        let mut filed = None;
        if let Some(mut ps) = r.files.get_mut(&home) {
            if let Some(p) = ps.iter_mut().find(|p| p.id == pid) {
                let known = p.exports.iter().any(|e| {
                    e.handle_type == handle_type
                        && e.id.dev == id.dev
                        && e.id.ino == id.ino
                        && match &e.fd {
                            Some(h) => same_open_file(fd, h.as_raw_fd()) == Some(true),
                            None => true,
                        }
                });
                filed = Some(known);
                if !known {
                    if let Some(dup) = hold(r) {
                        if p.ledger.is_none() {
                            p.ledger = publish(&p.exporter, dup.as_ref());
                        }
                        let _refiled = Refiled;
                        p.exports.push(Export {
                            fd: dup,
                            id,
                            handle_type,
                            owner,
                        });
                    } else {
                        filed = Some(true);
                    }
                }
            }
        }
        if let Some(known) = filed {
            if !known && key != home {
                r.alias(key, pid, home);
            }
            if !rec.exported {
                state::set_memory_exported(device, memory, pid, home);
            }
            return;
        }
    }
    // The first export: a new payload with `memory` as its exporter.
    let pid = lazy.unwrap_or_else(|| r.next_id.fetch_add(1, Ordering::Relaxed) + 1);
    let dedicated = match rec.dedicated {
        Dedicated::None => DedicatedIdentity::None,
        d => dedicated_identity(device, d),
    };
    let mut payload = new_payload(data, memory, rec, pid, dedicated);
    // The lazy export was of another handle type: the memory's one regular file is its inode
    // too. First, as it came first (an import is matched to the first export of its file).
    if let Some(t) = lazy_type.filter(|t| id.regular && !t.is_empty() && *t != handle_type) {
        payload.exports.push(Export {
            fd: None,
            id,
            handle_type: t,
            owner,
        });
    }
    if let Some(dup) = hold(r) {
        if dup.is_some() {
            payload.ledger = publish(&payload.exporter, dup.as_ref());
        }
        payload.exports.push(Export {
            fd: dup,
            id,
            handle_type,
            owner,
        });
    }
    r.file(key, payload);
    state::set_memory_exported(device, memory, pid, key);
}

/// A new payload `pid` with `memory` (whose record is `rec`) as its exporter, in the box of
/// the last one freed if any: the facts are built in place, not moved again.
fn new_payload(
    data: &DeviceData,
    memory: vk::DeviceMemory,
    rec: &MemoryRecord,
    pid: u64,
    dedicated: DedicatedIdentity,
) -> Box<Payload> {
    SPARE.boxed(Payload {
        id: pid,
        exporter: ExporterFacts {
            side: device_side(data),
            memory: memory.as_raw(),
            allocation_size: rec.size,
            memory_type_index: rec.type_index,
            dedicated,
            device_mask: (rec.device_mask != 0).then_some(rec.device_mask),
            process: None,
        },
        clean_import: None,
        quick_clean: None,
        exports: SmallVec::new(),
        ledger: None,
    })
}

// ---- Lazy exports ---------------------------------------------------------------------
//
// A driver that exports a handle type as memfds (lavapipe, the mock) hands out the memory's
// one file at every export of it: its inode can be learnt at any later time from an export
// the layer makes itself. So once a device's driver was seen doing so, the first export of
// memory that no rule can fault (not dedicated, not imported, no ledger) costs one record
// update and no `fstat`: the payload gets its id at once (ownership names it) and the
// marker home [`lazy_home`] until an import finds no payload for its fd. That import files
// every payload exported lazily so far (`resolve_lazy`), asking the driver for an fd of
// each, then looks again. Memory freed before that is forgotten without ever being filed.

/// The `st_dev` of no file: a record whose payload home has it is exported lazily.
const LAZY_DEV: u64 = u64::MAX;

/// Set by every lazy export, cleared by the resolution that files it.
#[link_section = ".data.handoff_hot"]
static LAZY: state::CacheLine<AtomicBool> = state::CacheLine(AtomicBool::new(false));

/// Bits of [`DeviceData::lazy_fd_exports`]: 0 for a handle type that cannot be lazy.
pub fn lazy_bit(handle_type: vk::ExternalMemoryHandleTypeFlags) -> u8 {
    if handle_type == OPAQUE {
        1
    } else if handle_type == DMA_BUF {
        2
    } else {
        0
    }
}

/// The payload home of memory exported lazily as `handle_type` (empty: its resolution
/// failed, it stays unfiled).
fn lazy_home(handle_type: vk::ExternalMemoryHandleTypeFlags) -> Inode {
    (LAZY_DEV, u64::from(handle_type.as_raw()))
}

/// The handle type memory was exported lazily as, when its payload `home` is the lazy
/// marker ([`lazy_home`]; empty once its resolution failed and it stays unfiled); `None` for
/// a payload filed at an inode.
fn lazy_type(home: Inode) -> Option<vk::ExternalMemoryHandleTypeFlags> {
    (home.0 == LAZY_DEV).then(|| vk::ExternalMemoryHandleTypeFlags::from_raw(home.1 as u32))
}

/// Whether `m` waits for [`resolve_lazy`]: exported lazily, not yet filed nor given up.
fn awaits_filing(m: &MemoryRecord) -> bool {
    m.exported && lazy_type(m.payload_home).is_some_and(|t| !t.is_empty())
}

/// Sets `bit` in `learnt` (a device's record of what its driver was seen doing), writing
/// the shared line only the first time.
fn learn(learnt: &AtomicU8, bit: u8) {
    if learnt.load(Ordering::Relaxed) & bit != bit {
        learnt.fetch_or(bit, Ordering::Relaxed);
    }
}

/// Remembers that `data`'s driver exports `handle_type` as regular files. Not with a
/// `ledger_dir`, whose ledger records every export at once: no export of such a device is
/// lazy, and [`may_export_lazily`] reads the one bit instead of the settings (on a page of
/// their own).
fn learn_lazy(data: &DeviceData, handle_type: vk::ExternalMemoryHandleTypeFlags) {
    if data.reporter.settings.ledger_dir.is_none() {
        learn(&data.lazy_fd_exports, lazy_bit(handle_type));
    }
}

/// Whether a `vkGetMemoryFdKHR` of `handle_type` on `data` may be recorded lazily (before the
/// call: [`export_lazily`]).
#[inline(always)]
pub fn may_export_lazily(
    data: &DeviceData,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
) -> bool {
    let bit = lazy_bit(handle_type);
    bit != 0 && data.lazy_fd_exports.load(Ordering::Relaxed) & bit != 0
}

/// Records, before the driver call, the first export of `memory` as `handle_type` as a
/// payload filed lazily, when no rule of the export can fire (an fd handle type the memory
/// was allocated to export, memory that is no import and not dedicated; the caller checked
/// the pointer and [`may_export_lazily`]). `Err`: the memory's record (or `None`, unknown
/// memory) for the full path. A failed call leaves the mark: the resolution asks the driver
/// for an fd of the memory itself, and files nothing when it gets none.
#[inline(always)]
pub fn export_lazily(
    data: &DeviceData,
    memory: vk::DeviceMemory,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
) -> Result<(), Option<MemoryRecord>> {
    let r = registry();
    state::set_memory_exported_if(
        data.handle,
        memory,
        |m| m.payload.is_none() && m.dedicated == Dedicated::None && m.exports_plainly(handle_type),
        || r.next_id.fetch_add(1, Ordering::Relaxed) + 1,
        lazy_home(handle_type),
    )?;
    if !LAZY.load(Ordering::Relaxed) {
        LAZY.store(true, Ordering::Release);
    }
    Ok(())
}

/// After a successful lazy export: the number is the app's fresh fd now.
#[inline(always)]
pub fn after_lazy_export(fd: i32) {
    if fd >= 0 {
        registry().consumed.remove(&fd);
    }
}

/// Files every payload exported lazily since the last resolution; whether it filed any.
#[cold]
#[inline(never)]
fn resolve_lazy() -> bool {
    if !LAZY.load(Ordering::Acquire) || !LAZY.swap(false, Ordering::AcqRel) {
        return false;
    }
    let pending =
        state::memory_find(|device, memory, m| awaits_filing(m).then_some((device, memory)));
    let mut filed = false;
    for (device, memory) in pending {
        filed |= resolve_one(device, memory);
    }
    filed
}

/// Files the payload `memory` exported lazily, at the inode of an fd the layer asks the
/// driver for (and closes); whether it did.
///
/// The payload is filed before the record names its home, so that an import or an export
/// racing with this finds either the marker (and files it the same way, once per id) or the
/// payload; a free that comes before the record is updated leaves the filed payload to be
/// taken back here.
fn resolve_one(device: vk::Device, memory: vk::DeviceMemory) -> bool {
    let asked = state::with_memory_mut(device, memory, |m| {
        let pid = m.payload?;
        let handle_type = lazy_type(m.payload_home).filter(|t| !t.is_empty())?;
        // SAFETY: the memory's record is there and locked, so its device is alive:
        // `vkDestroyDevice` removes its memory records before it calls down.
        let data = dispatch::device_shared(unsafe { dispatch::key(device) })?;
        let info = vk::MemoryGetFdInfoKHR::default()
            .memory(memory)
            .handle_type(handle_type);
        let mut raw = -1;
        // SAFETY: a live device and memory (freeing it waits for the record's lock), a valid
        // info and a writable int; the fd the driver returns is the layer's to close.
        let res = unsafe { (data.external_memory_fd.get_memory_fd_khr)(device, &info, &mut raw) };
        let id = (res == vk::Result::SUCCESS && raw >= 0)
            .then(|| {
                // SAFETY: the driver just made `raw` for the layer; nothing else owns it.
                let fd = unsafe { OwnedFd::from_raw_fd(raw) };
                file_id(fd.as_raw_fd())
            })
            .flatten()
            .filter(|id| id.regular);
        if id.is_none() {
            // Unfiled for good: no regular file to name it by.
            m.payload_home = lazy_home(vk::ExternalMemoryHandleTypeFlags::empty());
        }
        Some((data, *m, pid, id?, handle_type))
    })
    .flatten();
    let Some((data, rec, pid, id, handle_type)) = asked else {
        return false;
    };
    let r = registry();
    let home = (id.dev, id.ino);
    let mut payload = new_payload(&data, memory, &rec, pid, DedicatedIdentity::None);
    payload.exports.push(Export {
        fd: None,
        id,
        handle_type,
        owner: (device.as_raw(), memory.as_raw()),
    });
    r.file(home, payload);
    let named = state::with_memory_mut(device, memory, |m| {
        let ours = m.payload == Some(pid);
        if ours {
            m.payload_home = home;
        }
        ours
    });
    if named != Some(true) {
        // Freed (or exported anew) meanwhile: what was filed here goes.
        forget_payloads(r.drop_memory(device.as_raw(), memory.as_raw(), pid, home));
    }
    true
}

/// Forgets what `memory` (whose record was `rec`) exported or imported, closing the held
/// duplicates. Memory that neither exported nor imported never reached the registry.
#[inline]
pub fn memory_freed(device: vk::Device, memory: vk::DeviceMemory, rec: Option<&MemoryRecord>) {
    let Some(rec) = rec else {
        return;
    };
    if rec.export_types.is_empty() && rec.import_type.is_empty() && rec.payload.is_none() {
        return;
    }
    let r = registry();
    let owner = (device.as_raw(), memory.as_raw());
    if rec.import_fd >= 0 {
        r.consumed.remove_if(&rec.import_fd, |c| {
            (c.facts.device, c.facts.memory) == owner
        });
    }
    // Only memory that exported left exports behind (imported memory's payload is its
    // exporter's).
    if let (true, Some(pid)) = (rec.exported, rec.payload) {
        // A payload exported lazily and never filed has only its ownership state to go.
        let gone = if lazy_type(rec.payload_home).is_some() {
            Some(pid)
        } else {
            r.drop_memory(owner.0, owner.1, pid, rec.payload_home)
        };
        forget_payloads(gone);
    } else {
        r.remote.remove(&owner);
    }
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
    let r = registry();
    let gone = r.drop_where(|dev, _| dev == d);
    forget_payloads(gone);
    // Payloads its memory exported lazily were never filed.
    forget_payloads(state::memory_find(|dev, _, m| {
        let lazy = dev == device && m.exported && lazy_type(m.payload_home).is_some();
        lazy.then_some(m.payload).flatten()
    }));
    r.drop_sync(|dev, _, _| dev == d);
    r.shrink();
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
        if self.sync.is_empty() {
            return None;
        }
        self.sync
            .map
            .get(&(id.dev, id.ino))?
            .iter()
            .find(|h| same_payload(fd, id, h.fd.as_raw_fd(), h.id))
            .map(|h| h.exporter.clone())
    }

    fn drop_sync(&self, gone: impl Fn(u64, Option<SyncKind>, u64) -> bool) {
        let mut closed = 0;
        self.sync.retain(|_, held| {
            let before = held.len();
            held.retain(|h| !gone(h.exporter.side.device, h.exporter.kind, h.exporter.object));
            closed += before - held.len();
            !held.is_empty()
        });
        self.release_held(closed);
    }
}

/// Where an fd given to a semaphore or fence import came from, as far as this process saw.
pub fn sync_origin(fd: i32) -> FdOrigin {
    let Some(id) = file_id(fd) else {
        return FdOrigin::Unknown;
    };
    let r = registry();
    if let Some(e) = r.find_sync(fd, id) {
        return FdOrigin::Sync(e);
    }
    r.find(fd, id, None)
        .and_then(|f| r.exporter(f.pid, f.home))
        .map_or(FdOrigin::Unknown, |e| FdOrigin::Memory {
            device: e.side.device,
            memory: e.memory,
        })
}

/// Records a successful OPAQUE_FD `vkGet{Semaphore,Fence}FdKHR`: keeps a duplicate of `fd`
/// with the exporter's facts (`exporter.side` is filled in here).
pub fn after_sync_export(data: &DeviceData, mut exporter: SyncExporter, fd: i32) {
    let Some(id) = file_id(fd) else {
        return;
    };
    let r = registry();
    // The number is the app's fresh fd now, whatever an earlier import did with it.
    r.consumed.remove(&fd);
    let known = !r.sync.is_empty()
        && r.sync.map.get(&(id.dev, id.ino)).is_some_and(|held| {
            held.iter().any(|h| {
                h.exporter.kind == exporter.kind
                    && h.exporter.object == exporter.object
                    && h.id == id
                    && same_open_file(fd, h.fd.as_raw_fd()) == Some(true)
            })
        });
    if known {
        return;
    }
    let Some(owned) = r.dup_to_hold(fd) else {
        return;
    };
    exporter.side = device_side(data);
    let held = SyncHeld {
        fd: owned,
        id,
        exporter,
    };
    r.sync.update((id.dev, id.ino), |v| v.push(held));
}

/// Forgets the exports of a destroyed semaphore or fence (closing the held duplicates).
pub fn sync_destroyed(device: vk::Device, kind: SyncKind, object: u64) {
    let d = device.as_raw();
    registry().drop_sync(|dev, k, o| dev == d && k == Some(kind) && o == object);
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

    fn export(fd: Option<OwnedFd>, id: FileId, owner: (u64, u64)) -> Export {
        Export {
            fd,
            id,
            handle_type: OPAQUE,
            owner,
        }
    }

    /// A registry holding `n` payloads, each one memfd export of memory `pid` of device 1;
    /// the odd ones hold a duplicate (as with a ledger), the even ones only the inode.
    fn registry_of(n: u64) -> (Registry, Vec<OwnedFd>) {
        let r = Registry::new();
        let mut apps = Vec::new();
        for pid in 1..=n {
            let app = memfd();
            let id = file_id(app.as_raw_fd()).unwrap();
            let dup = (pid % 2 == 1).then(|| r.dup_to_hold(app.as_raw_fd()).unwrap());
            let exporter = ExporterFacts {
                memory: pid,
                side: DeviceSide {
                    device: 1,
                    ..Default::default()
                },
                ..Default::default()
            };
            r.files
                .entry((id.dev, id.ino))
                .or_default()
                .push(Box::new(Payload {
                    id: pid,
                    exporter,
                    clean_import: None,
                    quick_clean: None,
                    exports: smallvec::smallvec![export(dup, id, (1, pid))],
                    ledger: None,
                }));
            apps.push(app);
        }
        (r, apps)
    }

    fn home(app: &OwnedFd) -> Inode {
        let id = file_id(app.as_raw_fd()).unwrap();
        (id.dev, id.ino)
    }

    #[test]
    fn imports_find_their_payload_until_it_is_freed() {
        let n = 40;
        let (r, apps) = registry_of(n);
        assert_eq!(r.held.load(Ordering::Relaxed), n as usize / 2);
        for (i, app) in apps.iter().enumerate() {
            let fd = app.try_clone().unwrap();
            let id = file_id(fd.as_raw_fd()).unwrap();
            let f = r.find(fd.as_raw_fd(), id, None).unwrap();
            let pid = i as u64 + 1;
            assert_eq!((f.pid, f.home, f.handle_type), (pid, home(app), OPAQUE));
            assert_eq!(r.exporter(f.pid, f.home).unwrap().memory, pid);
        }
        let stranger = memfd();
        let id = file_id(stranger.as_raw_fd()).unwrap();
        assert!(r.find(stranger.as_raw_fd(), id, None).is_none());
        // Freeing an exporter forgets its payload and its duplicate.
        for pid in 1..=n {
            let app = &apps[pid as usize - 1];
            assert_eq!(r.drop_memory(1, pid, pid, home(app)), Some(pid));
            let fd = app.as_raw_fd();
            assert!(r.find(fd, file_id(fd).unwrap(), None).is_none());
        }
        assert!(r.files.is_empty());
        assert_eq!(r.held.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn an_export_under_another_inode_is_found_through_its_alias() {
        let (r, apps) = registry_of(1);
        let h = home(&apps[0]);
        // Memory 7 of device 2 imported payload 1 and exported it as another file.
        let other = memfd();
        let oid = file_id(other.as_raw_fd()).unwrap();
        r.files.get_mut(&h).unwrap()[0]
            .exports
            .push(export(None, oid, (2, 7)));
        r.alias((oid.dev, oid.ino), 1, h);
        let f = r.find(other.as_raw_fd(), oid, None).unwrap();
        assert_eq!((f.pid, f.home), (1, h));
        // Freeing the importer forgets its export and the alias, not the payload.
        assert_eq!(r.drop_memory(2, 7, 1, h), None);
        assert!(r.find(other.as_raw_fd(), oid, None).is_none());
        assert!(r.aliases.is_empty() && r.aliases.map.is_empty());
        assert_eq!(r.files.get(&h).unwrap()[0].exports.len(), 1);
        // Destroying device 1 forgets the payload.
        r.alias((oid.dev, oid.ino), 1, h);
        r.files.get_mut(&h).unwrap()[0]
            .exports
            .push(export(None, oid, (1, 1)));
        assert_eq!(r.drop_where(|d, _| d == 1), vec![1]);
        assert!(r.files.is_empty());
        assert!(r.aliases.map.is_empty());
        assert_eq!(r.held.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_clean_import_is_not_compared_again_until_its_device_goes() {
        let (r, apps) = registry_of(1);
        let (fd, h) = (apps[0].as_raw_fd(), home(&apps[0]));
        let id = file_id(fd).unwrap();
        let k = ImportKey {
            device: 9,
            size: 4096,
            type_index: 0,
            device_mask: None,
        };
        assert!(!r.find(fd, id, Some(k)).unwrap().judged_clean);
        r.judged_clean(1, h, k);
        assert!(r.find(fd, id, Some(k)).unwrap().judged_clean);
        let other = ImportKey { size: 8192, ..k };
        assert!(!r.find(fd, id, Some(other)).unwrap().judged_clean);
        assert!(!r.find(fd, id, None).unwrap().judged_clean);
        r.drop_where(|d, _| d == 9);
        assert!(!r.find(fd, id, Some(k)).unwrap().judged_clean);
    }

    #[test]
    fn a_quick_import_needs_the_same_clean_shape_and_export_type() {
        let (r, apps) = registry_of(1);
        let (fd, h) = (apps[0].as_raw_fd(), home(&apps[0]));
        let id = file_id(fd).unwrap();
        let shape = QuickShape {
            device: 9,
            size: 4096,
            type_index: 0,
            handle_type: OPAQUE,
        };
        assert!(r.find_quick(fd, id, shape).is_none());
        let export_type = r.find(fd, id, None).unwrap().handle_type;
        r.quick_judged_clean(1, h, QuickKey { shape, export_type });
        assert_eq!(r.find_quick(fd, id, shape), Some(1));
        // Another size, another handle type, another device: the full checks again.
        for other in [
            QuickShape {
                size: 8192,
                ..shape
            },
            QuickShape {
                handle_type: DMA_BUF,
                ..shape
            },
            QuickShape { device: 8, ..shape },
        ] {
            assert!(r.find_quick(fd, id, other).is_none());
        }
        // A verdict found against an export of another type says nothing of this one.
        r.quick_judged_clean(
            1,
            h,
            QuickKey {
                shape,
                export_type: DMA_BUF,
            },
        );
        assert!(export_type != DMA_BUF && r.find_quick(fd, id, shape).is_none());
        r.quick_judged_clean(1, h, QuickKey { shape, export_type });
        // The importing device goes: its verdicts go with it.
        r.drop_where(|d, _| d == 9);
        assert!(r.find_quick(fd, id, shape).is_none());
    }

    #[test]
    fn a_payload_is_filed_once_per_id() {
        // An export and the resolution of one lazily exported payload can both file it.
        let (r, apps) = registry_of(1);
        let (fd, h) = (apps[0].as_raw_fd(), home(&apps[0]));
        let id = file_id(fd).unwrap();
        let again = |pid| {
            Box::new(Payload {
                id: pid,
                exporter: ExporterFacts::default(),
                clean_import: None,
                quick_clean: None,
                exports: smallvec::smallvec![export(None, id, (1, pid))],
                ledger: None,
            })
        };
        r.file(h, again(1));
        assert_eq!(r.files.get(&h).unwrap().len(), 1);
        r.file(h, again(2));
        assert_eq!(r.files.get(&h).unwrap().len(), 2);
    }

    #[test]
    fn the_quick_memo_answers_until_the_files_change() {
        let app = memfd();
        let id = file_id(app.as_raw_fd()).unwrap();
        assert!(id.regular && id.unique);
        let shape = QuickShape {
            device: 9,
            size: 4096,
            type_index: 0,
            handle_type: OPAQUE,
        };
        // Other tests change the files of their own registries in parallel (the count is
        // process-wide): a memo stamped before one of those is rightly refused; retry.
        let memo = |id, shape| quick_memo::get(id, shape).0;
        let hit = (0..1000).any(|_| {
            let Err(filed) = memo(id, shape) else {
                return true;
            };
            quick_memo::put(filed, id, shape, 7);
            memo(id, shape) == Ok(7)
        });
        assert!(hit);
        assert!(memo(
            id,
            QuickShape {
                size: 8192,
                ..shape
            }
        )
        .is_err());
        let other = file_id(memfd().as_raw_fd()).unwrap();
        assert!(memo(other, shape).is_err());
        // A change of the files map: the memo is stale, whatever it says.
        drop(Refiled);
        assert!(memo(id, shape).is_err());
        // A file that is not regular (a pipe here) is never remembered.
        let mut p = [0; 2];
        // SAFETY: a valid array for the two fds.
        assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
        // SAFETY: fresh fds of ours.
        let (a, b) = unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) };
        let pipe = file_id(a.as_raw_fd()).unwrap();
        assert!(!pipe.regular);
        if let Err(filed) = memo(pipe, shape) {
            quick_memo::put(filed, pipe, shape, 8);
        }
        assert!(memo(pipe, shape).is_err());
        drop((a, b));
        // One import in 16 of this thread asks whether the driver closed the fd.
        let asked = (0..160).filter(|_| quick_memo::get(id, shape).1).count();
        assert_eq!(asked, 10);
    }

    #[test]
    fn lazy_bits_name_the_fd_handle_types_only() {
        assert_eq!(lazy_bit(OPAQUE), 1);
        assert_eq!(lazy_bit(DMA_BUF), 2);
        assert_eq!(lazy_bit(vk::ExternalMemoryHandleTypeFlags::OPAQUE_WIN32), 0);
        assert_eq!(lazy_bit(OPAQUE | DMA_BUF), 0);
        let home = lazy_home(OPAQUE);
        assert_eq!(home.0, LAZY_DEV);
        assert_eq!(
            vk::ExternalMemoryHandleTypeFlags::from_raw(home.1 as u32),
            OPAQUE
        );
    }

    #[test]
    fn payloads_of_one_inode_share_its_entry() {
        // Two payloads filed under one (non-unique) inode: freeing one keeps the other.
        let (r, apps) = registry_of(2);
        let (h1, h2) = (home(&apps[0]), home(&apps[1]));
        let p2 = r.files.remove(&h2).unwrap().1.into_iter().next().unwrap();
        r.files.get_mut(&h1).unwrap().push(p2);
        assert_eq!(r.drop_memory(1, 2, 2, h1), Some(2));
        assert_eq!(r.files.get(&h1).unwrap().len(), 1);
        assert_eq!(r.drop_memory(1, 1, 1, h1), Some(1));
        assert!(r.files.is_empty());
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
