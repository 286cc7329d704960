// cursors.cpp - the row cursors of SELECT: stored, synthetic and system tables.
#include "cursors.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>

namespace scopekit::cql::server_detail {

std::int64_t next_id(const std::optional<std::vector<std::byte>>& after) noexcept {
  if (!after) {
    return 0;
  }
  const std::int64_t last = bigint_of(*after);
  return last == std::numeric_limits<std::int64_t>::max() ? last : last + 1;
}

namespace {

class stored_cursor final : public row_cursor {
public:
  // The rows in `range` after `after`, or only the row with partition key `only`.
  stored_cursor(const table& t, const std::optional<std::vector<std::byte>>& after,
                const std::optional<std::vector<std::byte>>& only, token_range range)
      : rows_(&t.rows) {
    if (range.empty()) {
      it_ = end_ = rows_->end();
      return;
    }
    if (only) {
      it_ = rows_->find(row_key(*only));
      end_ = it_ == rows_->end() ? it_ : std::next(it_);
    } else {
      // A token prefix alone sorts before every key with that token.
      it_ = rows_->lower_bound(token_prefix(range.first));
      end_ = range.last == maximum_token ? rows_->end()
                                         : rows_->lower_bound(token_prefix(range.last + 1));
    }
    if (after && it_ != end_ && !bytes_less{}(*after, it_->first)) {
      const auto next = rows_->upper_bound(*after);
      const bool past_end = end_ != rows_->end() &&
                            (next == rows_->end() || !bytes_less{}(next->first, end_->first));
      it_ = past_end ? end_ : next;
    }
  }
  bool next() override {
    if (first_) {
      first_ = false;
    } else if (it_ != end_) {
      ++it_;
    }
    return it_ != end_;
  }
  cell_view cell(std::size_t column) override {
    const server_detail::cell& c = it_->second[column];
    if (!c) {
      return std::nullopt;
    }
    return std::span<const std::byte>(*c);
  }
  void mark() override { marked_ = it_; }
  std::vector<std::byte> marked_key() const override { return marked_->first; }

private:
  using row_map = std::map<std::vector<std::byte>, stored_row, bytes_less>;
  const row_map* rows_;
  row_map::const_iterator it_;
  row_map::const_iterator end_;
  row_map::const_iterator marked_;
  bool first_ = true;
};

class synthetic_cursor final : public row_cursor {
public:
  // Ids in [begin, end).
  synthetic_cursor(std::int64_t begin, std::int64_t end) : next_(begin), end_(end) {}
  bool next() override {
    if (next_ >= end_) {
      return false;
    }
    id_ = next_++;
    cells_made_ = false;
    return true;
  }
  cell_view cell(std::size_t column) override {
    if (!cells_made_) {
      id_bytes_ = bigint_bytes(id_);
      name_current();
      synthetic_payload(id_, payload_);
      cells_made_ = true;
    }
    switch (column) {
      case 0:
        return std::span<const std::byte>(id_bytes_);
      case 1:
        return std::as_bytes(std::span<const char>(name_.data(), name_size_));
      default:
        return std::span<const std::byte>(payload_);
    }
  }
  void mark() override { marked_ = id_; }
  std::vector<std::byte> marked_key() const override {
    const auto bytes = bigint_bytes(marked_);
    return {bytes.begin(), bytes.end()};
  }
  // Every row of a large synthetic table goes through here: each cell is written where it goes.
  void append_row(rows_encoder& out, std::span<const std::size_t> columns) override {
    name_current();
    for (const std::size_t c : columns) {
      if (c == 0) {
        out.add_bigint(id_);
      } else if (c == 1) {
        out.add_cell(std::as_bytes(std::span<const char>(name_.data(), name_size_)));
      } else {
        synthetic_payload(
            id_, out.add_cell_space(synthetic_payload_size).first<synthetic_payload_size>());
      }
    }
  }

private:
  // Makes name_ "row-" and the digits of id_. Rows come in order of id, so the digits of the
  // previous row are usually incremented in place (cheaper than converting); a carry out of
  // the first digit, a negative id or a jump converts.
  void name_current() noexcept {
    if (named_ && id_ == named_id_) {
      return;
    }
    if (named_ && named_id_ >= 0 && id_ == named_id_ + 1) {
      for (std::size_t i = name_size_; i-- > 4;) {
        if (name_[i] != '9') {
          ++name_[i];
          named_id_ = id_;
          return;
        }
        name_[i] = '0';
      }
    }
    const auto result = std::to_chars(name_.data() + 4, name_.data() + name_.size(), id_);
    name_size_ = static_cast<std::size_t>(result.ptr - name_.data());
    named_id_ = id_;
    named_ = true;
  }

  std::int64_t next_;
  std::int64_t end_;
  std::int64_t id_ = 0;
  bool cells_made_ = false;
  std::int64_t marked_ = 0;
  std::array<std::byte, 8> id_bytes_{};
  std::array<char, 4 + 20> name_{'r', 'o', 'w', '-'};  // "row-" and at most 20 digits
  std::size_t name_size_ = 4;
  std::int64_t named_id_ = 0;  // whose digits name_ holds, once named_
  bool named_ = false;
  std::array<std::byte, synthetic_payload_size> payload_{};
};

class system_cursor final : public row_cursor {
public:
  // The rows of `rows` from index `begin`.
  system_cursor(const std::vector<stored_row>& rows, std::size_t begin)
      : rows_(&rows), next_(begin) {}
  bool next() override {
    if (next_ >= rows_->size()) {
      return false;
    }
    current_ = next_++;
    return true;
  }
  cell_view cell(std::size_t column) override {
    const server_detail::cell& c = (*rows_)[current_][column];
    if (!c) {
      return std::nullopt;
    }
    return std::span<const std::byte>(*c);
  }
  void mark() override { marked_ = current_; }
  std::vector<std::byte> marked_key() const override {
    const auto bytes = bigint_bytes(static_cast<std::int64_t>(marked_));
    return {bytes.begin(), bytes.end()};
  }

private:
  const std::vector<stored_row>* rows_;
  std::size_t next_;
  std::size_t current_ = 0;
  std::size_t marked_ = 0;
};

}  // namespace

std::unique_ptr<row_cursor> make_stored_cursor(const table& t,
                                               const std::optional<std::vector<std::byte>>& after,
                                               const std::optional<std::vector<std::byte>>& only,
                                               token_range range) {
  return std::make_unique<stored_cursor>(t, after, only, range);
}

std::unique_ptr<row_cursor> make_synthetic_cursor(std::int64_t begin, std::int64_t end) {
  return std::make_unique<synthetic_cursor>(begin, end);
}

std::unique_ptr<row_cursor> make_system_cursor(const std::vector<stored_row>& rows,
                                               std::size_t begin) {
  return std::make_unique<system_cursor>(rows, begin);
}

void row_cursor::append_row(rows_encoder& out, std::span<const std::size_t> columns) {
  for (const std::size_t c : columns) {
    const cell_view v = cell(c);
    if (v) {
      out.add_cell(*v);
    } else {
      out.add_null();
    }
  }
}

}  // namespace scopekit::cql::server_detail
