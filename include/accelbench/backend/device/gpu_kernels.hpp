// The device kernels of the OpenCL and Cuda backends, written once.
//
// The kernels below are in a small dialect that is both OpenCL C and CUDA
// C++: the includer defines the macros of the dialect and
// ACCELBENCH_GPU_KERNELS(...). OpenCL stringifies the code (the program is
// compiled at run time, with the dialect defined by opencl_dialect below);
// Cuda expands it as code (compiled by nvcc). Kernels verified on one
// therefore run unchanged on the other.
//
// The dialect:
//   KERNEL            a kernel entry point
//   DEVICE_FN         a function that kernels call
//   AS_FLOAT(u)       the float whose bits are the unsigned int u
//   GLOBAL            qualifier of a pointer to device memory
//   SHARED            qualifier of an array shared by a work-group (block)
//   BARRIER           work-group barrier, for shared and device memory
//   GID0 LID0 LID1 GRP0 GRP1
//                     global id, local id and group id in dimensions 0 and 1
//   ABK_WG            work-group size of the row kernels (one group per row)
//   ABK_TS            tile size of the matrix product (ABK_TS x ABK_TS groups)
//   ABK_LOWEST        the lowest float (an additive mask)
//
// Every kernel checks its own bounds: the launch rounds global sizes up to
// a multiple of the work-group size. Indices into tensors are `long` (64-bit).
// No preprocessor directive may appear inside ACCELBENCH_GPU_KERNELS, and no
// name that OpenCL C reserves (half, kernel, ...).
//
// This file has no include guard on purpose: it is included once by each
// backend with its own definition of ACCELBENCH_GPU_KERNELS, and so is
// gpu_detection_kernels.hpp, the kernels of DetectionOps, in the same dialect.

ACCELBENCH_GPU_KERNELS(

/* y[i, o] = sum_e x[i, e] w[o, e] for i < n, o < m, e < k, with row strides
   and offsets so that one call can write a group's columns of a grouped
   convolution. A group of ABK_TS x ABK_TS work-items computes a tile of
   4 ABK_TS x 4 ABK_TS outputs, 4 x 4 per work-item, from ABK_TS-deep slices
   of x and w staged in shared memory; dimension 0 runs over outputs o,
   dimension 1 over rows i. */
/* Element idx of a weight as a float: w[idx] for wkind 0; for wkind 1 and
   2 the 16 bits wh[idx] as bf16 and fp16, widened exactly. */
DEVICE_FN float ab_weight(GLOBAL const float* w, GLOBAL const unsigned short* wh, long idx, int wkind) {
  if (wkind == 0) return w[idx];
  const unsigned int h = wh[idx];
  if (wkind == 1) return AS_FLOAT(h << 16);
  const unsigned int sign = (h & 0x8000u) << 16;
  const unsigned int e = (h >> 10) & 0x1fu;
  const unsigned int mant = h & 0x3ffu;
  if (e == 0x1fu) return AS_FLOAT(sign | 0x7f800000u | (mant << 13));
  if (e != 0u) return AS_FLOAT(sign | ((e + 112u) << 23) | (mant << 13));
  const float v = (float)mant * 5.9604644775390625e-8f; /* a subnormal: mant 2^-24 */
  return sign != 0u ? -v : v;
}

/* The weight w of the two matrix products below is read through ab_weight:
   floats (wkind 0, wh unused) or bf16 and fp16 bits (wkind 1 and 2, w unused). */
KERNEL void ab_matmul_nt(GLOBAL const float* x, long xoff, int ldx, GLOBAL const float* w, long woff, int ldw,
                         GLOBAL const unsigned short* wh, int wkind, GLOBAL float* y, long yoff, int ldy, int n, int m,
                         int k) {
  SHARED float xs[ABK_TS][4 * ABK_TS];
  SHARED float ws[ABK_TS][4 * ABK_TS];
  const int lx = LID0;
  const int ly = LID1;
  const int o0 = GRP0 * 4 * ABK_TS;
  const int i0 = GRP1 * 4 * ABK_TS;
  float acc[4][4];
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) acc[r][c] = 0.0f;
  for (int t = 0; t < k; t += ABK_TS) {
    const int e = t + lx;
    for (int r = 0; r < 4; ++r) {
      const int row = ly + r * ABK_TS;
      xs[lx][row] = (i0 + row < n && e < k) ? x[xoff + (long)(i0 + row) * ldx + e] : 0.0f;
      ws[lx][row] = (o0 + row < m && e < k) ? ab_weight(w, wh, woff + (long)(o0 + row) * ldw + e, wkind) : 0.0f;
    }
    BARRIER;
    for (int q = 0; q < ABK_TS; ++q) {
      float a[4];
      float b[4];
      for (int r = 0; r < 4; ++r) {
        a[r] = xs[q][ly + r * ABK_TS];
        b[r] = ws[q][lx + r * ABK_TS];
      }
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) acc[r][c] += a[r] * b[c];
    }
    BARRIER;
  }
  for (int r = 0; r < 4; ++r) {
    const int i = i0 + ly + r * ABK_TS;
    for (int c = 0; c < 4; ++c) {
      const int o = o0 + lx + c * ABK_TS;
      if (i < n && o < m) y[yoff + (long)i * ldy + o] = acc[r][c];
    }
  }
}

/* ab_matmul_nt for at most 8 rows (a decode step): one work-item per output
   column, reading its row of w once for every row of x. */
KERNEL void ab_matmul_nt_few(GLOBAL const float* x, long xoff, int ldx, GLOBAL const float* w, long woff, int ldw,
                             GLOBAL const unsigned short* wh, int wkind, GLOBAL float* y, long yoff, int ldy, int n,
                             int m, int k) {
  const long o = GID0;
  if (o >= m) return;
  float acc[8];
  for (int r = 0; r < 8; ++r) acc[r] = 0.0f;
  const long wr = woff + o * ldw;
  for (int e = 0; e < k; ++e) {
    const float wv = ab_weight(w, wh, wr + e, wkind);
    for (int r = 0; r < n; ++r) acc[r] += x[xoff + (long)r * ldx + e] * wv;
  }
  for (int r = 0; r < n; ++r) y[yoff + (long)r * ldy + o] = acc[r];
}

/* y[i, o] += bias[o] for i < n, o < m (row stride ldy, offset yoff) */
KERNEL void ab_add_bias(GLOBAL float* y, long yoff, int ldy, GLOBAL const float* bias, int n, int m) {
  const long idx = GID0;
  if (idx >= (long)n * m) return;
  const long i = idx / m;
  const int o = (int)(idx % m);
  y[yoff + i * ldy + o] += bias[o];
}

/* y += x */
KERNEL void ab_add(GLOBAL const float* x, GLOBAL float* y, long count) {
  const long i = GID0;
  if (i < count) y[i] += x[i];
}

/* In place: 0 erf GELU, 1 tanh GELU, 2 ReLU, 3 SiLU, 4 quick GELU, 5 x *= s, 6 sigmoid */
KERNEL void ab_activation(GLOBAL float* x, long count, int kind, float s) {
  const long i = GID0;
  if (i >= count) return;
  const float v = x[i];
  float r = v;
  if (kind == 0) {
    r = 0.5f * v * (1.0f + erf(v * 0.70710678118654752440f));
  } else if (kind == 1) {
    r = 0.5f * v * (1.0f + tanh(0.79788456080286535588f * (v + 0.044715f * v * v * v)));
  } else if (kind == 2) {
    r = v > 0.0f ? v : 0.0f;
  } else if (kind == 3) {
    r = v / (1.0f + exp(-v));
  } else if (kind == 4) {
    r = v / (1.0f + exp(-1.702f * v));
  } else if (kind == 6) {
    r = 1.0f / (1.0f + exp(-v));
  } else {
    r = v * s;
  }
  x[i] = r;
}

/* y = act(x[:, :half_dim]) * x[:, half_dim:] with act SiLU (kind 0) or tanh GELU (kind 1) */
KERNEL void ab_gated(GLOBAL const float* x, GLOBAL float* y, long rows, int half_dim, int kind) {
  const long i = GID0;
  if (i >= rows * half_dim) return;
  const long r = i / half_dim;
  const int c = (int)(i % half_dim);
  const float g = x[r * 2 * half_dim + c];
  const float a = kind == 0 ? g / (1.0f + exp(-g))
                            : 0.5f * g * (1.0f + tanh(0.79788456080286535588f * (g + 0.044715f * g * g * g)));
  y[i] = a * x[r * 2 * half_dim + half_dim + c];
}

/* Per row (one group each): y = (x - mean) / sqrt(var + eps) * g + b when
   kind is 0 (layer norm); y = x / sqrt(mean(x^2) + eps) * g when kind is 1
   (RMS norm); y may be x. */
KERNEL void ab_row_norm(GLOBAL const float* x, GLOBAL const float* g, GLOBAL const float* b, GLOBAL float* y,
                        int cols, float eps, int kind) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const long base = (long)GRP0 * cols;
  float mean = 0.0f;
  if (kind == 0) {
    float sum = 0.0f;
    for (int c = lid; c < cols; c += ABK_WG) sum += x[base + c];
    red[lid] = sum;
    BARRIER;
    for (int s = ABK_WG / 2; s > 0; s >>= 1) {
      if (lid < s) red[lid] += red[lid + s];
      BARRIER;
    }
    mean = red[0] / (float)cols;
    BARRIER;
  }
  float sq = 0.0f;
  for (int c = lid; c < cols; c += ABK_WG) {
    const float d = x[base + c] - mean;
    sq += d * d;
  }
  red[lid] = sq;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    BARRIER;
  }
  const float inv = 1.0f / sqrt(red[0] / (float)cols + eps);
  for (int c = lid; c < cols; c += ABK_WG) {
    const float v = (x[base + c] - mean) * inv * g[c];
    y[base + c] = kind == 0 ? v + b[c] : v;
  }
}

/* In place, per row (one group each): softmax when kind is 0; division by
   the Euclidean norm when kind is 1 (a row of zeros stays zeros). */
KERNEL void ab_row_scale(GLOBAL float* x, int cols, int kind) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const long base = (long)GRP0 * cols;
  float top = ABK_LOWEST;
  if (kind == 0) {
    for (int c = lid; c < cols; c += ABK_WG) top = fmax(top, x[base + c]);
    red[lid] = top;
    BARRIER;
    for (int s = ABK_WG / 2; s > 0; s >>= 1) {
      if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
      BARRIER;
    }
    top = red[0];
    BARRIER;
  }
  float sum = 0.0f;
  for (int c = lid; c < cols; c += ABK_WG) {
    const float v = x[base + c];
    if (kind == 0) {
      const float e = exp(v - top);
      x[base + c] = e;
      sum += e;
    } else {
      sum += v * v;
    }
  }
  red[lid] = sum;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    BARRIER;
  }
  const float total = red[0];
  if (kind == 1 && total == 0.0f) return;
  const float inv = kind == 0 ? 1.0f / total : 1.0f / sqrt(total);
  for (int c = lid; c < cols; c += ABK_WG) x[base + c] *= inv;
}

/* ids[r] = the column of row r's largest value, the first on ties. */
KERNEL void ab_argmax_rows(GLOBAL const float* x, GLOBAL int* ids, int cols) {
  SHARED float best_value[ABK_WG];
  SHARED int best_index[ABK_WG];
  const int lid = LID0;
  const long base = (long)GRP0 * cols;
  float bv = ABK_LOWEST;
  int bi = cols;
  for (int c = lid; c < cols; c += ABK_WG) {
    const float v = x[base + c];
    if (bi == cols || v > bv) {
      bv = v;
      bi = c;
    }
  }
  best_value[lid] = bv;
  best_index[lid] = bi;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) {
      const float ov = best_value[lid + s];
      const int oi = best_index[lid + s];
      if (oi < cols && (best_index[lid] == cols || ov > best_value[lid] ||
                        (ov == best_value[lid] && oi < best_index[lid]))) {
        best_value[lid] = ov;
        best_index[lid] = oi;
      }
    }
    BARRIER;
  }
  if (lid == 0) ids[GRP0] = best_index[0];
}

/* Scaled dot-product attention, one group per (sequence, head, query); see
   accelbench::AttentionDims. Sequence b adds block b % bias_blocks of the
   bias. scores is scratch of [groups, key_len]. */
KERNEL void ab_attention(GLOBAL const float* q, GLOBAL const float* k, GLOBAL const float* v,
                         GLOBAL const float* mask, int has_mask, GLOBAL const float* bias, int has_bias,
                         int bias_blocks, GLOBAL float* out, GLOBAL float* scores, int query_len, int key_len,
                         int heads, int head_dim, int kv_heads, int key_stride, int causal, int window, float scale) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const long group = GRP0;
  const int i = (int)(group % query_len);
  const int h = (int)((group / query_len) % heads);
  const long b = group / ((long)query_len * heads);
  const int kv = h / (heads / kv_heads);
  const long qrow = b * query_len + i;
  const int q_width = heads * head_dim;
  const int kv_width = kv_heads * head_dim;
  const int seen = causal ? key_len - query_len + i + 1 : key_len;
  const int first = (causal && window > 0 && seen > window) ? seen - window : 0; /* sliding window */
  GLOBAL const float* qp = q + qrow * q_width + (long)h * head_dim;
  const long bias_row = ((b % bias_blocks) * heads + h) * query_len + i; /* block b % bias_blocks */
  GLOBAL float* sp = scores + group * key_len;
  float top = ABK_LOWEST;
  for (int j = first + lid; j < seen; j += ABK_WG) {
    GLOBAL const float* kp = k + (b * key_stride + j) * kv_width + (long)kv * head_dim;
    float dot = 0.0f;
    for (int e = 0; e < head_dim; ++e) dot += qp[e] * kp[e];
    float s = dot * scale;
    if (has_bias) s += bias[bias_row * key_len + j];
    if (has_mask && mask[b * key_len + j] == 0.0f) s += ABK_LOWEST;
    sp[j] = s;
    top = fmax(top, s);
  }
  red[lid] = top;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
    BARRIER;
  }
  top = red[0];
  BARRIER;
  float sum = 0.0f;
  for (int j = first + lid; j < seen; j += ABK_WG) {
    const float e = exp(sp[j] - top);
    sp[j] = e;
    sum += e;
  }
  red[lid] = sum;
  BARRIER;
  for (int s = ABK_WG / 2; s > 0; s >>= 1) {
    if (lid < s) red[lid] += red[lid + s];
    BARRIER;
  }
  const float inv = 1.0f / red[0];
  for (int e = lid; e < head_dim; e += ABK_WG) {
    GLOBAL const float* vp = v + b * key_stride * kv_width + (long)kv * head_dim + e;
    float acc = 0.0f;
    for (int j = first; j < seen; ++j) acc += sp[j] * vp[(long)j * kv_width];
    out[qrow * q_width + (long)h * head_dim + e] = acc * inv;
  }
}

/* y[i] = table[ids[i]]; an id outside the table gives a row of zeros (the
   host checks ids it knows). */
KERNEL void ab_embedding_lookup(GLOBAL const float* table, GLOBAL const int* ids, GLOBAL float* y, long count,
                                int cols, int table_rows) {
  const long idx = GID0;
  if (idx >= count) return;
  const long i = idx / cols;
  const int c = (int)(idx % cols);
  const int id = ids[i];
  y[idx] = (id >= 0 && id < table_rows) ? table[(long)id * cols + c] : 0.0f;
}

/* y[b, c] = mean over s of x[b * len + s, c] where mask[b, s] is 1. */
KERNEL void ab_masked_mean_pool(GLOBAL const float* x, GLOBAL const float* mask, GLOBAL float* y, int batch,
                                int len, int cols) {
  const long idx = GID0;
  if (idx >= (long)batch * cols) return;
  const long b = idx / cols;
  const int c = (int)(idx % cols);
  float acc = 0.0f;
  float count = 0.0f;
  for (int s = 0; s < len; ++s) {
    const float m = mask[b * len + s];
    acc += m * x[(b * len + s) * cols + c];
    count += m;
  }
  y[idx] = acc / fmax(count, 1e-9f);
}

/* Rotary embedding in place from tables of cos and sin [positions, half_dim]. */
KERNEL void ab_rotary(GLOBAL float* x, GLOBAL const float* cos_table, GLOBAL const float* sin_table, long rows,
                      int len, int heads, int head_dim, int start) {
  const int half_dim = head_dim / 2;
  const long idx = GID0;
  if (idx >= rows * heads * half_dim) return;
  const int j = (int)(idx % half_dim);
  const int h = (int)((idx / half_dim) % heads);
  const long row = idx / ((long)half_dim * heads);
  const long pos = start + row % len;
  const float c = cos_table[pos * half_dim + j];
  const float s = sin_table[pos * half_dim + j];
  GLOBAL float* p = x + row * heads * head_dim + (long)h * head_dim + j;
  const float a = p[0];
  const float bb = p[half_dim];
  p[0] = a * c - bb * s;
  p[half_dim] = bb * c + a * s;
}

/* y[b * len + i] += table[start + i] */
KERNEL void ab_add_positions(GLOBAL const float* table, GLOBAL float* y, int start, int len, long count, int cols) {
  const long idx = GID0;
  if (idx >= count) return;
  const long row = idx / cols;
  const int c = (int)(idx % cols);
  y[idx] += table[(long)(start + row % len) * cols + c];
}

/* cache[b * capacity + start + i] = x[b * len + i] */
KERNEL void ab_cache_write(GLOBAL const float* x, GLOBAL float* cache, int len, int capacity, int start,
                           long count, int cols) {
  const long idx = GID0;
  if (idx >= count) return;
  const long row = idx / cols;
  const int c = (int)(idx % cols);
  const long b = row / len;
  const long i = row % len;
  cache[(b * capacity + start + i) * cols + c] = x[idx];
}

/* T5's bias [heads * query_len, key_len]: the table's [buckets, heads] entry
   at the bucket of relative position j - (query_start + i), looked up in
   buckets[] indexed from the smallest relative position. */
KERNEL void ab_relative_bias(GLOBAL const float* table, GLOBAL const int* buckets, GLOBAL float* y, int heads,
                             int query_len, int key_len, int query_start) {
  const long idx = GID0;
  if (idx >= (long)heads * query_len * key_len) return;
  const int j = (int)(idx % key_len);
  const int i = (int)((idx / key_len) % query_len);
  const int h = (int)(idx / ((long)key_len * query_len));
  const int rel = j - (query_start + i);
  const int bucket = buckets[rel + query_start + query_len - 1];
  y[idx] = table[(long)bucket * heads + h];
}

/* im2col of group g of a 1-D convolution: cols[(s, t), (c, j)] for the
   group's group_in input channels. */
KERNEL void ab_im2col_1d(GLOBAL const float* x, GLOBAL float* cols, int length, int in_channels, int group_in,
                         int group, int taps, int stride, int padding, int out_len, long count) {
  const long idx = GID0;
  if (idx >= count) return;
  const int width_k = group_in * taps;
  const long r = idx / width_k;
  const int qq = (int)(idx % width_k);
  const int c = qq / taps;
  const int j = qq % taps;
  const long s = r / out_len;
  const int t = (int)(r % out_len);
  const int it = t * stride - padding + j;
  cols[idx] = (it >= 0 && it < length) ? x[(s * length + it) * in_channels + (long)group * group_in + c] : 0.0f;
}

/* Group norm, one group per (sequence, channel group), over length time
   steps and size channels. */
KERNEL void ab_group_norm(GLOBAL const float* x, GLOBAL const float* g, GLOBAL const float* b, GLOBAL float* y,
                          int length, int cols, int groups, float eps) {
  SHARED float red[ABK_WG];
  const int lid = LID0;
  const int size = cols / groups;
  const int grp = (int)(GRP0 % groups);
  const long s = GRP0 / groups;
  const long count = (long)length * size;
  float sum = 0.0f;
  for (long q = lid; q < count; q += ABK_WG) {
    sum += x[(s * length + q / size) * cols + (long)grp * size + q % size];
  }
  red[lid] = sum;
  BARRIER;
  for (int st = ABK_WG / 2; st > 0; st >>= 1) {
    if (lid < st) red[lid] += red[lid + st];
    BARRIER;
  }
  const float mean = red[0] / (float)count;
  BARRIER;
  float sq = 0.0f;
  for (long q = lid; q < count; q += ABK_WG) {
    const float d = x[(s * length + q / size) * cols + (long)grp * size + q % size] - mean;
    sq += d * d;
  }
  red[lid] = sq;
  BARRIER;
  for (int st = ABK_WG / 2; st > 0; st >>= 1) {
    if (lid < st) red[lid] += red[lid + st];
    BARRIER;
  }
  const float inv = 1.0f / sqrt(red[0] / (float)count + eps);
  for (long q = lid; q < count; q += ABK_WG) {
    const long c = (long)grp * size + q % size;
    const long at = (s * length + q / size) * cols + c;
    y[at] = (x[at] - mean) * inv * g[c] + b[c];
  }
}

/* y = x with row before each of the batch's sequences of n rows. */
KERNEL void ab_prepend_row(GLOBAL const float* x, GLOBAL const float* row, GLOBAL float* y, int n, long count,
                           int cols) {
  const long idx = GID0;
  if (idx >= count) return;
  const long r = idx / cols;
  const int c = (int)(idx % cols);
  const long s = r / (n + 1);
  const int i = (int)(r % (n + 1));
  y[idx] = i == 0 ? row[c] : x[(s * n + i - 1) * cols + c];
}

)
