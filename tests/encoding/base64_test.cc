#include "encoding/base64.h"

#include <gtest/gtest.h>

namespace podpath::encoding {
namespace {

TEST(DecodeBase64, Table) {
  EXPECT_EQ(decode_base64("Q0VSVA=="), "CERT");
  EXPECT_EQ(decode_base64("S0VZ"), "KEY");
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_EQ(decode_base64("AA=="), std::string(1, '\0'));
  // Wrapped lines, as kubeconfig and PEM writers produce.
  EXPECT_EQ(decode_base64("S0\nVZ"), "KEY");
  EXPECT_EQ(decode_base64("Zm9v\r\nYmFy\n"), "foobar");
  // kubectl (Go's StdEncoding) rejects all of these too.
  EXPECT_EQ(decode_base64("Q0VSVA"), std::nullopt);  // unpadded
  EXPECT_EQ(decode_base64("Q0VSV"), std::nullopt);
  EXPECT_EQ(decode_base64("Q0VS=VA="), std::nullopt);  // padding inside
  EXPECT_EQ(decode_base64("Q0VSVA="), std::nullopt);
  EXPECT_EQ(decode_base64("Q0VSVA==="), std::nullopt);
  EXPECT_EQ(decode_base64("AB=="), std::nullopt);  // padding bits set: not canonical
  EXPECT_EQ(decode_base64("!!!!"), std::nullopt);
  EXPECT_EQ(decode_base64("Q0VS-A=="), std::nullopt);      // URL-safe alphabet is another encoding
  EXPECT_EQ(decode_base64("Q0VS-garbage"), std::nullopt);  // GnuTLS alone would stop at '-'
  EXPECT_EQ(decode_base64("Q0VS_A=="), std::nullopt);
}

TEST(EncodeBase64, RoundTripsEveryLength) {
  EXPECT_EQ(encode_base64(""), "");
  EXPECT_EQ(encode_base64("CERT"), "Q0VSVA==");
  EXPECT_EQ(encode_base64("user:pass"), "dXNlcjpwYXNz");
  std::string bytes;
  for (int length = 0; length < 100; ++length) {
    const std::string encoded = encode_base64(bytes);
    EXPECT_EQ(encoded.size(), (bytes.size() + 2) / 3 * 4) << length;
    EXPECT_EQ(encoded.find('\n'), std::string::npos) << "no line wrapping";
    EXPECT_EQ(decode_base64(encoded), bytes) << length;
    bytes.push_back(static_cast<char>(length * 37));
  }
}

}  // namespace
}  // namespace podpath::encoding
