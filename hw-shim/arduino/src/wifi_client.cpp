// WiFiClient: a real TCP socket to where the scenario's DNS says, silent while the link is down.
#include "WiFiClient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "runtime.h"
#include "sockets.h"

extern "C" {
#include "hal_link.h"
#include "hal_time.h"
#include "net_names.h"
#include "posix_hal.h"
#include "shim_internal.h"
}

namespace robofleet_arduino {

/* Never destroyed: a sketch's global WiFiClient is destroyed at exit, in an
 * order against this file's statics that no one controls. */
static std::vector<Socket *> &live = *new std::vector<Socket *>;
static std::vector<int> &parked = *new std::vector<int>;

/* A TCP handshake over WiFi costs a round trip through the access point
 * (tens of milliseconds); over loopback it costs nothing, and a sketch
 * that reconnects in a loop (a client id another copy takes over) would
 * spin the host. */
static const uint64_t HANDSHAKE_US = 20000;

/* How long a write may wait for room in the socket's send buffer. */
static const uint64_t WRITE_STALL_US = 5000000;

Socket::Socket()
{
	live.push_back(this);
}

Socket::~Socket()
{
	close_quietly_if_down();
	live.erase(std::remove(live.begin(), live.end(), this), live.end());
}

void Socket::close_quietly_if_down()
{
	if (fd < 0)
		return;
	if (hal_link_get_state() == HAL_LINK_UP)
		close(fd);
	else
		parked.push_back(fd);
	fd = -1;
}

void sockets_abort_all()
{
	for (Socket *s : live) {
		if (s->fd >= 0) {
			parked.push_back(s->fd);
			s->fd = -1;
		}
		s->aborted = true;
	}
}

void sockets_close_parked()
{
	for (int fd : parked)
		close(fd);
	parked.clear();
}

void sockets_close_all()
{
	for (Socket *s : live) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
	}
	sockets_close_parked();
}

void sockets_end_sessions(bool tls_only)
{
	for (Socket *s : live)
		if (s->fd >= 0 && (s->secure || !tls_only))
			s->close_quietly_if_down();
}

bool sockets_wait_readable(int timeout_ms)
{
	std::vector<struct pollfd> fds;

	fds.push_back({ posix_signal_wake_fd(), POLLIN, 0 });
	for (const Socket *s : live) {
		if (s->fd < 0)
			continue;
		/* Already decrypted: there is something to read now. */
		if (s->buffered)
			return true;
		fds.push_back({ s->fd, POLLIN, 0 });
	}
	return poll(fds.data(), fds.size(), timeout_ms) > 0;
}

} // namespace robofleet_arduino

using namespace robofleet_arduino;

WiFiClient::WiFiClient() = default;
WiFiClient::~WiFiClient() = default;

static bool link_up()
{
	return hal_link_get_state() == HAL_LINK_UP;
}

int WiFiClient::connect_addr(const void *addr, unsigned len, int32_t timeout_ms)
{
	const struct sockaddr *sa = static_cast<const struct sockaddr *>(addr);
	auto s = std::make_shared<Socket>();
	int one = 1, err = 0;
	socklen_t err_len = sizeof(err);

	stop();
	if (!link_up())
		return 0;
	s->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return 0;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (::connect(s->fd, sa, len) < 0 && errno != EINPROGRESS)
		return 0;
	uint64_t deadline = hal_time_now_us() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 3000) * 1000u;
	for (;;) {
		struct pollfd p = { s->fd, POLLOUT, 0 };
		if (poll(&p, 1, 100) > 0)
			break;
		runtime_service();
		/* Aborted by a drop, or closed by the end of the sessions. */
		if (s->aborted || s->fd < 0 || hal_time_now_us() >= deadline)
			return 0;
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0 || err != 0)
		return 0;
	runtime_sleep_until(hal_time_now_us() + HANDSHAKE_US);
	if (s->aborted || s->fd < 0)
		return 0;
	sock_ = s;
	return 1;
}

int WiFiClient::connect(IPAddress ip, uint16_t port, int32_t timeout_ms)
{
	String text = ip.toString();

	return connect(text.c_str(), port, timeout_ms);
}

int WiFiClient::connect(IPAddress ip, uint16_t port)
{
	return connect(ip, port, (int32_t)connect_timeout_ms_);
}

int WiFiClient::connect(const char *host, uint16_t port)
{
	return connect(host, port, (int32_t)connect_timeout_ms_);
}

int WiFiClient::connect(const char *host, uint16_t port, int32_t timeout_ms)
{
	struct sockaddr_storage addr;
	socklen_t len = 0;

	runtime_service();
	if (!host || !link_up())
		return 0;
	if (shim_net_resolve(host, port, &addr, &len) < 0)
		return 0;
	return connect_addr(&addr, len, timeout_ms);
}

size_t WiFiClient::write(uint8_t b)
{
	return write(&b, 1);
}

size_t WiFiClient::write(const uint8_t *buf, size_t size)
{
	uint32_t delay_ms = 0;
	size_t done = 0;

	if (!sock_ || sock_->fd < 0 || !link_up())
		return 0;
	/* A weak signal: the packet takes its retransmissions' time, or is
	 * lost so often that the access point drops the station. */
	if (shim__link_transmit(&delay_ms) < 0)
		return 0;
	if (delay_ms)
		runtime_sleep_until(hal_time_now_us() + (uint64_t)delay_ms * 1000u);
	uint64_t deadline = hal_time_now_us() + WRITE_STALL_US;
	while (done < size && sock_->fd >= 0) {
		ssize_t n = send(sock_->fd, buf + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    hal_time_now_us() < deadline) {
			struct pollfd p = { sock_->fd, POLLOUT, 0 };
			poll(&p, 1, 100);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		close(sock_->fd);
		sock_->fd = -1;
		break;
	}
	return done;
}

int WiFiClient::available()
{
	int n = 0;

	if (!sock_ || sock_->fd < 0)
		return 0;
	if (ioctl(sock_->fd, FIONREAD, &n) < 0)
		return 0;
	return n;
}

int WiFiClient::read(uint8_t *buf, size_t size)
{
	if (!sock_ || sock_->fd < 0 || size == 0)
		return -1;
	ssize_t n = recv(sock_->fd, buf, size, MSG_DONTWAIT);
	if (n > 0)
		return (int)n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return -1;
	/* The peer closed, or the connection broke. */
	close(sock_->fd);
	sock_->fd = -1;
	return -1;
}

int WiFiClient::read()
{
	uint8_t b;

	return read(&b, 1) == 1 ? b : -1;
}

int WiFiClient::peek()
{
	uint8_t b;

	if (!sock_ || sock_->fd < 0)
		return -1;
	return recv(sock_->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1 ? b : -1;
}

void WiFiClient::stop()
{
	if (sock_)
		sock_->close_quietly_if_down();
	sock_.reset();
}

uint8_t WiFiClient::connected()
{
	uint8_t b;

	if (!sock_ || sock_->fd < 0)
		return 0;
	ssize_t n = recv(sock_->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 1;
	close(sock_->fd);
	sock_->fd = -1;
	return 0;
}

int WiFiClient::setNoDelay(bool nodelay)
{
	int v = nodelay ? 1 : 0;

	if (!sock_ || sock_->fd < 0)
		return -1;
	return setsockopt(sock_->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
}

bool WiFiClient::getNoDelay()
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (!sock_ || sock_->fd < 0)
		return false;
	getsockopt(sock_->fd, IPPROTO_TCP, TCP_NODELAY, &v, &len);
	return v != 0;
}

int WiFiClient::fd() const
{
	return sock_ ? sock_->fd : -1;
}

IPAddress WiFiClient::remoteIP() const
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (!sock_ || sock_->fd < 0 || getpeername(sock_->fd, (struct sockaddr *)&a, &len) < 0 ||
	    a.sin_family != AF_INET)
		return IPAddress();
	return IPAddress((uint32_t)a.sin_addr.s_addr);
}

uint16_t WiFiClient::remotePort() const
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (!sock_ || sock_->fd < 0 || getpeername(sock_->fd, (struct sockaddr *)&a, &len) < 0 ||
	    a.sin_family != AF_INET)
		return 0;
	return ntohs(a.sin_port);
}

IPAddress WiFiClient::localIP() const
{
	uint32_t be = runtime_ip_be();

	return IPAddress((uint8_t)(be >> 24), (uint8_t)(be >> 16), (uint8_t)(be >> 8), (uint8_t)be);
}
