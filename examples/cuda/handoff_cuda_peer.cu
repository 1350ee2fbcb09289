// The CUDA side of the `cuda_interop` example (examples/src/cuda_interop.rs).
//
// Built on the GPU machine, with the CUDA runtime linked in statically so that the library
// needs nothing but the NVIDIA driver (libcuda.so.1) at run time:
//
//   nvcc -O2 -shared -Xcompiler -fPIC -o libhandoff_cuda_peer.so handoff_cuda_peer.cu
//
// The Rust example dlopen()s it and calls handoff_cuda_peer_run() once. CUDA imports the
// Vulkan allocation (an OPAQUE_FD) and the two Vulkan semaphores (OPAQUE_FD), waits on the
// first, runs a kernel that writes handoff_cuda_peer_pattern() into the first `bytes` bytes,
// signals the second and waits for its stream, then releases everything it imported.

#include <cuda_runtime.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern "C" {

// What the Vulkan side hands over. Every fd is consumed: imported by CUDA (which closes it
// when the imported object is destroyed) or closed here when it could not be.
struct handoff_cuda_peer_args {
    int memory_fd;          // vkGetMemoryFdKHR(OPAQUE_FD)
    int dedicated;          // the Vulkan allocation was dedicated (cudaExternalMemoryDedicated)
    uint64_t size;          // VkMemoryAllocateInfo::allocationSize, exactly
    uint64_t bytes;         // how many bytes the kernel writes (<= size)
    int wait_fd;            // semaphore Vulkan signals before CUDA may touch the memory
    int signal_fd;          // semaphore CUDA signals when the pattern is written
    uint8_t device_uuid[16];  // VkPhysicalDeviceIDProperties::deviceUUID
};

// The ABI version of handoff_cuda_peer_args and handoff_cuda_peer_run.
int handoff_cuda_peer_abi(void) { return 1; }

}  // extern "C"

// The byte at `offset`; the Rust side checks the same formula.
__host__ __device__ static inline uint8_t handoff_cuda_peer_pattern(uint64_t offset) {
    return (uint8_t)((offset * 131u) ^ (offset >> 10) ^ 0x5au);
}

__global__ static void write_pattern(uint8_t* out, uint64_t bytes) {
    uint64_t stride = (uint64_t)blockDim.x * gridDim.x;
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < bytes; i += stride) {
        out[i] = handoff_cuda_peer_pattern(i);
    }
}

static void say(char* err, size_t len, const char* fmt, ...) {
    if (err == NULL || len == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static void close_fd(int* fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

// The CUDA device with this Vulkan deviceUUID, or -1 (`err` says why).
static int find_device(const uint8_t uuid[16], char* err, size_t err_len) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        say(err, err_len, "no CUDA device (cudaGetDeviceCount: %s)", cudaGetErrorName(e));
        return -1;
    }
    // The OPAQUE_FD payload only makes sense on the GPU that exported it.
    for (int i = 0; i < count; i++) {
        cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, i) == cudaSuccess && memcmp(p.uuid.bytes, uuid, 16) == 0)
            return i;
    }
    say(err, err_len, "none of the %d CUDA devices has the Vulkan deviceUUID", count);
    return -1;
}

// 0: a CUDA device has this Vulkan deviceUUID; 2: none (or no CUDA driver), `err` says why.
extern "C" int handoff_cuda_peer_has_device(const uint8_t* uuid, char* err, size_t err_len) {
    return find_device(uuid, err, err_len) >= 0 ? 0 : 2;
}

// 0: done, the pattern is written and the signal semaphore signalled.
// 2: no CUDA driver or no CUDA device matching the Vulkan deviceUUID (`err` says which).
// 1: any other failure (`err` names the CUDA call).
extern "C" int handoff_cuda_peer_run(const struct handoff_cuda_peer_args* in, char* err,
                                     size_t err_len) {
    struct handoff_cuda_peer_args a = *in;
    int rc = 1;
    cudaExternalMemory_t mem = NULL;
    cudaExternalSemaphore_t wait_sem = NULL, signal_sem = NULL;
    cudaStream_t stream = NULL;
    void* ptr = NULL;
    cudaError_t e;
    int device = -1;

#define CHECK(call)                                                                   \
    do {                                                                              \
        e = (call);                                                                   \
        if (e != cudaSuccess) {                                                       \
            say(err, err_len, "%s failed: %s (%s)", #call, cudaGetErrorName(e),       \
                cudaGetErrorString(e));                                               \
            goto out;                                                                 \
        }                                                                             \
    } while (0)

    device = find_device(a.device_uuid, err, err_len);
    if (device < 0) {
        rc = 2;
        goto out;
    }
    CHECK(cudaSetDevice(device));

    {
        cudaExternalMemoryHandleDesc md;
        memset(&md, 0, sizeof md);
        md.type = cudaExternalMemoryHandleTypeOpaqueFd;
        md.handle.fd = a.memory_fd;
        md.size = a.size;
        md.flags = a.dedicated ? cudaExternalMemoryDedicated : 0;
        CHECK(cudaImportExternalMemory(&mem, &md));
        a.memory_fd = -1;  // CUDA owns it now
    }
    {
        cudaExternalMemoryBufferDesc bd;
        memset(&bd, 0, sizeof bd);
        bd.offset = 0;
        bd.size = a.bytes;
        CHECK(cudaExternalMemoryGetMappedBuffer(&ptr, mem, &bd));
    }
    {
        cudaExternalSemaphoreHandleDesc sd;
        memset(&sd, 0, sizeof sd);
        sd.type = cudaExternalSemaphoreHandleTypeOpaqueFd;
        sd.handle.fd = a.wait_fd;
        CHECK(cudaImportExternalSemaphore(&wait_sem, &sd));
        a.wait_fd = -1;
        sd.handle.fd = a.signal_fd;
        CHECK(cudaImportExternalSemaphore(&signal_sem, &sd));
        a.signal_fd = -1;
    }
    CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    {
        cudaExternalSemaphoreWaitParams wp;
        memset(&wp, 0, sizeof wp);
        CHECK(cudaWaitExternalSemaphoresAsync(&wait_sem, &wp, 1, stream));
    }
    write_pattern<<<264, 256, 0, stream>>>((uint8_t*)ptr, a.bytes);
    CHECK(cudaGetLastError());
    {
        cudaExternalSemaphoreSignalParams sp;
        memset(&sp, 0, sizeof sp);
        CHECK(cudaSignalExternalSemaphoresAsync(&signal_sem, &sp, 1, stream));
    }
    CHECK(cudaStreamSynchronize(stream));
    rc = 0;
#undef CHECK

out:
    if (stream) cudaStreamDestroy(stream);
    if (ptr) cudaFree(ptr);
    if (signal_sem) cudaDestroyExternalSemaphore(signal_sem);
    if (wait_sem) cudaDestroyExternalSemaphore(wait_sem);
    if (mem) cudaDestroyExternalMemory(mem);
    close_fd(&a.memory_fd);
    close_fd(&a.wait_fd);
    close_fd(&a.signal_fd);
    return rc;
}
