// The device kernels of images for the OpenCL and Cuda backends, in the
// dialect of gpu_kernels.hpp (see there): conv2d's im2col over images laid
// out channel-major, and DetectionOps' over images laid out as rows:
// [batch * height * width, channels], one row per pixel in row-major (y, x)
// order; and WindowOps' element-wise product (ab_mul). Each backend
// includes this file right after gpu_kernels.hpp, with its own definition
// of ACCELBENCH_GPU_KERNELS; like that file it has no include guard on
// purpose.

ACCELBENCH_GPU_KERNELS(

/* im2col of a 2-D convolution: cols[(img, oy, ox), (c, ky, kx)]. */
KERNEL void ab_im2col_2d(GLOBAL const float* x, GLOBAL float* cols, int channels, int height, int width,
                         int taps, int stride, int padding, int out_h, int out_w, long count) {
  const long idx = GID0;
  if (idx >= count) return;
  const int width_k = channels * taps * taps;
  const long r = idx / width_k;
  const int qq = (int)(idx % width_k);
  const int c = qq / (taps * taps);
  const int ky = (qq / taps) % taps;
  const int kx = qq % taps;
  const int ox = (int)(r % out_w);
  const int oy = (int)((r / out_w) % out_h);
  const long img = r / ((long)out_w * out_h);
  const int iy = oy * stride - padding + ky;
  const int ix = ox * stride - padding + kx;
  cols[idx] = (iy >= 0 && iy < height && ix >= 0 && ix < width)
                  ? x[img * channels * height * width + ((long)c * height + iy) * width + ix]
                  : 0.0f;
}

/* im2col of a 2-D convolution of row-laid-out images: cols[(img, oy, ox),
   (ky, kx, c)], zero where a window reaches into the padding. */
KERNEL void ab_im2col_rows(GLOBAL const float* x, GLOBAL float* cols, int channels, int height, int width, int taps,
                           int stride, int padding, int out_h, int out_w, long count) {
  const long idx = GID0;
  if (idx >= count) return;
  const int width_k = taps * taps * channels;
  const long r = idx / width_k;
  const int qq = (int)(idx % width_k);
  const int c = qq % channels;
  const int kx = (qq / channels) % taps;
  const int ky = qq / (channels * taps);
  const int ox = (int)(r % out_w);
  const int oy = (int)((r / out_w) % out_h);
  const long img = r / ((long)out_w * out_h);
  const int iy = oy * stride - padding + ky;
  const int ix = ox * stride - padding + kx;
  cols[idx] = (iy >= 0 && iy < height && ix >= 0 && ix < width)
                  ? x[((img * height + iy) * width + ix) * channels + c]
                  : 0.0f;
}

/* Max pooling of row-laid-out images: y[(img, oy, ox), c] is the largest
   x[(img, iy, ix), c] of the taps x taps window at (oy * stride - padding,
   ox * stride - padding) clipped to the image, so padding never wins; a NaN
   is the largest, as in PyTorch. The host checks that padding <= taps / 2,
   which leaves every window a pixel. */
KERNEL void ab_max_pool2d(GLOBAL const float* x, GLOBAL float* y, int channels, int height, int width, int taps,
                          int stride, int padding, int out_h, int out_w, long count) {
  const long idx = GID0;
  if (idx >= count) return;
  const int c = (int)(idx % channels);
  const long r = idx / channels;
  const int ox = (int)(r % out_w);
  const int oy = (int)((r / out_w) % out_h);
  const long img = r / ((long)out_w * out_h);
  const int y0 = oy * stride - padding;
  const int x0 = ox * stride - padding;
  const int y1 = y0 + taps < height ? y0 + taps : height;
  const int x1 = x0 + taps < width ? x0 + taps : width;
  float best = 0.0f;
  int found = 0;
  for (int iy = y0 > 0 ? y0 : 0; iy < y1; ++iy) {
    for (int ix = x0 > 0 ? x0 : 0; ix < x1; ++ix) {
      const float v = x[((img * height + iy) * width + ix) * channels + c];
      if (!found || v > best || v != v) best = v;
      found = 1;
    }
  }
  y[idx] = best;
}

/* y *= x (WindowOps' mul) */
KERNEL void ab_mul(GLOBAL const float* x, GLOBAL float* y, long count) {
  const long i = GID0;
  if (i < count) y[i] *= x[i];
}

)
