/**
 * Recognises an out-of-memory failure in a model server's last output, so a
 * start that failed for want of memory can evict one more idle model and try
 * once more. The phrasings are the ones CUDA, ROCm/HIP, Metal, Vulkan,
 * llama.cpp and PyTorch (vLLM) print.
 */

const OOM_PATTERNS: readonly RegExp[] = [
  /out of memory/i, // CUDA "CUDA error: out of memory", cudaMalloc/hipMalloc "... failed: out of memory", torch "CUDA out of memory"
  /OutOfMemoryError/, // torch.OutOfMemoryError, Vulkan vk::OutOfDeviceMemoryError
  /ErrorOutOfDeviceMemory|ErrorOutOfHostMemory/, // Vulkan VK_ERROR_OUT_OF_DEVICE_MEMORY spelled by vulkan.hpp
  /VK_ERROR_OUT_OF_(DEVICE|HOST)_MEMORY/,
  /hipErrorOutOfMemory|cudaErrorMemoryAllocation/,
  /kIOGPUCommandBufferCallbackErrorOutOfMemory|Insufficient Memory/, // Metal
  /failed to allocate .*buffer/i, // llama.cpp "failed to allocate CUDA0 buffer of size ..."
  /unable to allocate .*buffer/i, // llama.cpp "unable to allocate CUDA0 buffer"
  /ggml_backend_\w+_buffer_type_alloc_buffer: allocating .* failed/, // llama.cpp allocator
  /not enough memory/i,
];

/**
 * True when `output` reads like an out-of-memory failure.
 *
 * @example
 * ```ts
 * isOutOfMemory("ggml_cuda_init: ... CUDA error: out of memory"); // true
 * isOutOfMemory("error: unknown argument --foo"); // false
 * ```
 */
export function isOutOfMemory(output: string): boolean {
  return OOM_PATTERNS.some((p) => p.test(output));
}
