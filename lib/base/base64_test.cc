#include "lib/base/base64.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pmbench::base {
namespace {

TEST(Base64Test, KnownAnswersAndRejects) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Encode("abc"), "YWJj");
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", std::string("\0\xff\x10\x80", 4)}) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s);
  }
  for (const char* bad : {"YQ=", "Y===", "YQ=a", "not*base64", "=YWJ", "YW=j"}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace pmbench::base
