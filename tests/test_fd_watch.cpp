// loop.add_reader / add_writer / remove_reader / remove_writer on descriptors the test owns (a
// socketpair): ports of CPython's test_events.py (test_reader_callback, test_writer_callback,
// test_add_fds_after_closing, test_remove_fds_after_closing) and of test_selector_events.py's
// add/remove cases, and the errors. Every wait is bounded.
// ctest-labels: thread
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include "asyncio_test.hpp"
#include "net_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::testing::bounded;

// A connected, non-blocking pair of Unix stream sockets, closed at the end of the test.
struct SocketPair {
    int fd[2] = {-1, -1};
    SocketPair() {
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd), 0);
    }
    ~SocketPair() {
        for (int f : fd)
            if (f >= 0)
                ::close(f);
    }
    void close(int i) {
        ::close(fd[i]);
        fd[i] = -1;
    }
};

std::string read_some(int fd) {
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

class FdWatchTest : public asyncio::testing::LoopTest {};

// test_reader_callback: the reader runs whenever data is there, collects it, and at EOF removes
// itself.
TEST_F(FdWatchTest, CPython_reader_callback) {
    SocketPair sp;
    int r = sp.fd[0];
    std::string got;
    const std::string parts[] = {"abc", "def", "ghi"};
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<> eof = loop.create_future();
        loop.add_reader(r, [&] {
            char buf[1024];
            ssize_t n = ::read(r, buf, sizeof buf);
            if (n > 0) {
                got.append(buf, static_cast<std::size_t>(n));
                return;
            }
            EXPECT_TRUE(loop.remove_reader(r));
            eof.set_result();
        });
        for (const std::string& part : parts) {
            EXPECT_EQ(::write(sp.fd[1], part.data(), part.size()), 3);
            co_await asyncio::sleep(0);
        }
        sp.close(1);
        co_await eof;
    }()));
    EXPECT_EQ(got, "abcdefghi");
    EXPECT_FALSE(loop->remove_reader(r));
}

// test_writer_callback: the writer runs while the socket takes more; once it would block, the
// writer removes itself and everything written arrives.
TEST_F(FdWatchTest, CPython_writer_callback) {
    SocketPair sp;
    int w = sp.fd[1];
    std::size_t written = 0;
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<> full = loop.create_future();
        const std::string chunk(4096, 'x');
        loop.add_writer(w, [&] {
            for (;;) {
                ssize_t n = ::write(w, chunk.data(), chunk.size());
                if (n < 0) {
                    EXPECT_EQ(errno, EAGAIN);
                    loop.remove_writer(w);
                    full.set_result();
                    return;
                }
                written += static_cast<std::size_t>(n);
            }
        });
        co_await full;
    }()));
    EXPECT_GT(written, 0u);
    sp.close(1);
    std::size_t read = 0;
    for (std::string s; !(s = read_some(sp.fd[0])).empty();)
        read += s.size();
    EXPECT_EQ(read, written);
}

// The callback gets the arguments given to add_reader, and a reader and a writer on one
// descriptor both run.
TEST_F(FdWatchTest, ReaderAndWriterOnOneDescriptorWithArguments) {
    SocketPair sp;
    int fd = sp.fd[0];
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<std::string> read = loop.create_future<std::string>();
        asyncio::Future<int> wrote = loop.create_future<int>();
        loop.add_reader(
            fd,
            [&](std::string prefix) {
                loop.remove_reader(fd);
                read.set_result(prefix + read_some(fd));
            },
            std::string("got "));
        loop.add_writer(
            fd,
            [&](int tag) {
                loop.remove_writer(fd);
                wrote.set_result(tag);
            },
            7);
        EXPECT_EQ(co_await wrote, 7);
        EXPECT_EQ(::write(sp.fd[1], "ping", 4), 4);
        EXPECT_EQ(co_await read, "got ping");
    }()));
}

// test_selector_events' test_add_reader_existing: a new reader replaces the old one, which is
// cancelled and never runs.
TEST_F(FdWatchTest, CPython_add_reader_existing_ReplacesTheReader) {
    SocketPair sp;
    int r = sp.fd[0];
    int first = 0;
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<std::string> got = loop.create_future<std::string>();
        loop.add_reader(r, [&] { ++first; });
        loop.add_reader(r, [&] {
            loop.remove_reader(r);
            got.set_result(read_some(r));
        });
        EXPECT_EQ(::write(sp.fd[1], "x", 1), 1);
        EXPECT_EQ(co_await got, "x");
    }()));
    EXPECT_EQ(first, 0);
}

// test_selector_events' test_remove_reader / test_remove_writer: true when there was one, and
// removing the reader leaves the writer.
TEST_F(FdWatchTest, CPython_remove_reader_and_writer_ReturnWhetherThereWasOne) {
    SocketPair sp;
    int fd = sp.fd[0];
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        EXPECT_FALSE(loop.remove_reader(fd));
        EXPECT_FALSE(loop.remove_writer(fd));
        int reads = 0;
        asyncio::Future<> writable = loop.create_future();
        loop.add_reader(fd, [&] { ++reads; });
        loop.add_writer(fd, [&] {
            loop.remove_writer(fd);
            writable.set_result();
        });
        EXPECT_TRUE(loop.remove_reader(fd));
        EXPECT_FALSE(loop.remove_reader(fd));
        EXPECT_EQ(::write(sp.fd[1], "x", 1), 1);
        co_await writable; // the writer still ran
        EXPECT_FALSE(loop.remove_writer(fd));
        EXPECT_EQ(reads, 0);
    }()));
}

// Bad descriptors fail at the call, with asyncio's kinds: a negative one is a ValueError; a
// regular file cannot be polled (PermissionError, as epoll says); a closed one is an OSError
// (EBADF). Nothing is left watched.
TEST_F(FdWatchTest, BadDescriptorsRaiseAtTheCall) {
    EXPECT_THROW(loop->add_reader(-1, [] {}), asyncio::ValueError);
    EXPECT_THROW(loop->add_writer(-5, [] {}), asyncio::ValueError);

    char path[] = "/tmp/asyncio-fd-watch-XXXXXX";
    int file = ::mkstemp(path);
    ASSERT_GE(file, 0);
    ::unlink(path);
    EXPECT_THROW(loop->add_reader(file, [] {}), asyncio::PermissionError);
    EXPECT_FALSE(loop->remove_reader(file));
    ::close(file);

    int closed = ::dup(0);
    ::close(closed);
    try {
        loop->add_writer(closed, [] {});
        ADD_FAILURE() << "no error for a closed descriptor";
    } catch (const asyncio::OSError& e) {
        EXPECT_EQ(e.code().value(), EBADF);
    }
    EXPECT_FALSE(loop->remove_writer(closed));
}

// An exception from the callback goes to the exception handler; the reader stays (as in
// asyncio) and runs again when more data comes.
TEST_F(FdWatchTest, CallbackExceptionGoesToTheHandler) {
    SocketPair sp;
    int r = sp.fd[0];
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<std::string> second = loop.create_future<std::string>();
        int calls = 0;
        loop.add_reader(r, [&] {
            std::string data = read_some(r);
            if (++calls == 1)
                throw asyncio::ValueError("bad data: " + data);
            loop.remove_reader(r);
            second.set_result(data);
        });
        EXPECT_EQ(::write(sp.fd[1], "one", 3), 3);
        while (reports.empty())
            co_await asyncio::sleep(0);
        EXPECT_EQ(::write(sp.fd[1], "two", 3), 3);
        EXPECT_EQ(co_await second, "two");
    }()));
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].message.find("Exception in callback"), std::string::npos);
    try {
        std::rethrow_exception(reports[0].exception);
    } catch (const asyncio::ValueError& e) {
        EXPECT_STREQ(e.what(), "bad data: one");
    }
}

// test_add_fds_after_closing / test_remove_fds_after_closing: on a closed loop adding raises
// RuntimeError and removing finds nothing; a watch left open when the loop closes is released,
// and the descriptor stays the program's, open and usable.
TEST_F(FdWatchTest, CPython_add_and_remove_fds_after_closing) {
    SocketPair sp;
    loop->add_reader(sp.fd[0], [] {});
    loop->add_writer(sp.fd[1], [] {});
    loop->close();
    EXPECT_THROW(loop->add_reader(sp.fd[0], [] {}), asyncio::RuntimeError);
    EXPECT_THROW(loop->add_writer(sp.fd[1], [] {}), asyncio::RuntimeError);
    EXPECT_FALSE(loop->remove_reader(sp.fd[0]));
    EXPECT_FALSE(loop->remove_writer(sp.fd[1]));
    EXPECT_EQ(::write(sp.fd[1], "ok", 2), 2);
    EXPECT_EQ(read_some(sp.fd[0]), "ok");
}

// A reader that removes itself and a writer on another descriptor it adds from inside its
// callback (watches changed during dispatch); and a reader added again after its removal.
TEST_F(FdWatchTest, WatchesChangedFromCallbacks) {
    SocketPair a;
    SocketPair b;
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<> done = loop.create_future();
        loop.add_reader(a.fd[0], [&] {
            EXPECT_EQ(read_some(a.fd[0]), "go");
            loop.remove_reader(a.fd[0]);
            loop.add_writer(b.fd[0], [&] {
                loop.remove_writer(b.fd[0]);
                loop.add_reader(a.fd[0], [&] {
                    EXPECT_EQ(read_some(a.fd[0]), "again");
                    loop.remove_reader(a.fd[0]);
                    done.set_result();
                });
                EXPECT_EQ(::write(a.fd[1], "again", 5), 5);
            });
        });
        EXPECT_EQ(::write(a.fd[1], "go", 2), 2);
        co_await done;
    }()));
}

} // namespace
