// File: internal/tls.h
//
// The one TLS client setup for RPC (https://) and subscriptions (wss://).
#ifndef PMBENCH_CHAIN_INTERNAL_TLS_H_
#define PMBENCH_CHAIN_INTERNAL_TLS_H_

#include <boost/asio/ssl/context.hpp>
#include <memory>

namespace pmbench::chain::internal {

// Verifies peers against the system's trust store as read now (SSL_CERT_FILE overrides it);
// the host name is checked per connection.
inline std::unique_ptr<boost::asio::ssl::context> MakeTlsClientContext() {
  auto ssl = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  ssl->set_default_verify_paths();
  ssl->set_verify_mode(boost::asio::ssl::verify_peer);
  return ssl;
}

}  // namespace pmbench::chain::internal

#endif  // PMBENCH_CHAIN_INTERNAL_TLS_H_
