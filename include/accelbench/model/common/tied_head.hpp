#pragma once

// A head (or a second embedding) that the configuration ties to a token
// embedding, against the tensors a checkpoint actually stores. transformers
// (5.23, PreTrainedModel.tie_weights in from_pretrained) ties the two only
// where the checkpoint does not contradict it:
//   - the head not stored: the head is the embedding;
//   - both stored and equal (torch.equal): tied, the stored copy unused;
//   - both stored and different: NOT tied; the stored head is used (with a
//     warning that tie_word_embeddings should be false);
//   - only the head stored: the embedding is the stored head.
// The architectures' constructors apply this rule before they take their
// weights, and record the outcome in their configuration.

#include <string>
#include <utility>

#include "weights.hpp"

namespace accelbench {

/// Applies transformers' rule above to the tensors `embedding` and `tied`
/// (the head) of `weights`: drops a stored copy equal to the embedding, and
/// stores a lone head under the embedding's name. Returns whether they stay
/// tied; false leaves both in `weights`, for the model to take each (shapes
/// are checked when they are taken).
[[nodiscard]] inline bool resolve_tied_head(WeightMap& weights, const std::string& embedding, const std::string& tied) {
  if (!weights.contains(tied)) return true;
  if (!weights.contains(embedding)) {
    weights.move_to(tied, weights, embedding);
    return true;
  }
  if (!weights.same_values(embedding, tied)) return false;
  weights.erase(tied);
  return true;
}

}  // namespace accelbench
