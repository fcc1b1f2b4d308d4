// asyncio.StreamReader fed by hand: the buffer, the limit and the errors (ports of CPython's
// test_streams.py StreamTests that need no socket; each names its CPython case).
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::StreamReader;

class StreamReaderTest : public asyncio::testing::LoopTest {
protected:
    // Runs `read` as a task while `feed` runs as a callback in the next iteration.
    template <class F>
    std::string read_with(Coro<std::string> read, F feed) {
        auto task = loop->create_task(std::move(read));
        loop->call_soon(feed);
        return loop->run_until_complete(task);
    }
};

const std::string DATA = "line1\nline2\nline3\n";

// test_feed_empty_data, test_feed_nonempty_data
TEST_F(StreamReaderTest, FeedData) {
    StreamReader stream;
    stream.feed_data("");
    EXPECT_FALSE(stream.at_eof());
    stream.feed_data(DATA);
    EXPECT_EQ(run(stream.read(100)), DATA);
}

// test_read_zero
TEST_F(StreamReaderTest, ReadZero) {
    StreamReader stream;
    stream.feed_data(DATA);
    EXPECT_EQ(run(stream.read(0)), "");
    EXPECT_EQ(run(stream.read(100)), DATA);
}

// test_read
TEST_F(StreamReaderTest, Read) {
    StreamReader stream;
    EXPECT_EQ(read_with(stream.read(30), [stream]() mutable { stream.feed_data(DATA); }), DATA);
}

// test_read_line_breaks
TEST_F(StreamReaderTest, ReadLineBreaks) {
    StreamReader stream;
    stream.feed_data("line1");
    stream.feed_data("line2");
    EXPECT_EQ(run(stream.read(5)), "line1");
    EXPECT_EQ(run(stream.read(5)), "line2");
}

// test_read_eof
TEST_F(StreamReaderTest, ReadEof) {
    StreamReader stream;
    EXPECT_EQ(read_with(stream.read(1024), [stream]() mutable { stream.feed_eof(); }), "");
    EXPECT_TRUE(stream.at_eof());
}

// test_read_until_eof
TEST_F(StreamReaderTest, ReadUntilEof) {
    StreamReader stream;
    auto feed = [stream]() mutable {
        stream.feed_data("chunk1\n");
        stream.feed_data("chunk2");
        stream.feed_eof();
    };
    EXPECT_EQ(read_with(stream.read(-1), feed), "chunk1\nchunk2");
    EXPECT_TRUE(stream.at_eof());
}

// test_read_exception
TEST_F(StreamReaderTest, ReadException) {
    StreamReader stream;
    stream.feed_data("line\n");
    EXPECT_EQ(run(stream.read(2)), "li");
    stream.set_exception(std::make_exception_ptr(asyncio::ValueError("x")));
    EXPECT_THROW(run(stream.read(2)), asyncio::ValueError);
}

// test_invalid_limit
TEST_F(StreamReaderTest, InvalidLimit) { EXPECT_THROW(StreamReader(0), asyncio::ValueError); }

// test_read_limit
TEST_F(StreamReaderTest, ReadLimit) {
    StreamReader stream(3);
    stream.feed_data("chunk");
    EXPECT_EQ(run(stream.read(5)), "chunk");
}

// test_readline
TEST_F(StreamReaderTest, Readline) {
    StreamReader stream;
    stream.feed_data("chunk1 ");
    auto feed = [stream]() mutable {
        stream.feed_data("chunk2 ");
        stream.feed_data("chunk3 ");
        stream.feed_data("\n chunk4");
    };
    EXPECT_EQ(read_with(stream.readline(), feed), "chunk1 chunk2 chunk3 \n");
    EXPECT_EQ(run(stream.read(100)), " chunk4");
}

// test_readline_limit_with_existing_data
TEST_F(StreamReaderTest, ReadlineLimitWithExistingData) {
    StreamReader stream(3);
    stream.feed_data("li");
    stream.feed_data("ne1\nline2\n");
    EXPECT_THROW(run(stream.readline()), asyncio::ValueError);
    // The first line is dropped, the second stays.
    EXPECT_EQ(run(stream.read(100)), "line2\n");

    StreamReader s2(3);
    s2.feed_data("li");
    s2.feed_data("ne1");
    s2.feed_data("li");
    EXPECT_THROW(run(s2.readline()), asyncio::ValueError);
    // No separator seen: the buffer is cleared.
    s2.feed_eof();
    EXPECT_EQ(run(s2.read(100)), "");
}

// test_at_eof
TEST_F(StreamReaderTest, AtEof) {
    StreamReader stream;
    EXPECT_FALSE(stream.at_eof());
    stream.feed_data("some data\n");
    EXPECT_FALSE(stream.at_eof());
    run(stream.readline());
    EXPECT_FALSE(stream.at_eof());
    stream.feed_data("some data\n");
    stream.feed_eof();
    run(stream.readline());
    EXPECT_TRUE(stream.at_eof());
}

// test_readline_limit
TEST_F(StreamReaderTest, ReadlineLimit) {
    StreamReader stream(7);
    auto feed = [stream]() mutable {
        stream.feed_data("chunk1");
        stream.feed_data("chunk2");
        stream.feed_data("chunk3\n");
        stream.feed_eof();
    };
    auto task = loop->create_task(stream.readline());
    loop->call_soon(feed);
    EXPECT_THROW(loop->run_until_complete(task), asyncio::ValueError);
    // The buffer had "chunk3\n" when the limit was passed: everything is dropped.
    EXPECT_EQ(run(stream.read(100)), "");

    StreamReader s2(7);
    s2.feed_data("1234567\n");
    EXPECT_EQ(run(s2.readline()), "1234567\n");
    s2.feed_data("12345678\n");
    EXPECT_THROW(run(s2.readline()), asyncio::ValueError);
    s2.feed_data("z");
    EXPECT_EQ(run(s2.read(100)), "z"); // the long line was dropped
    s2.feed_data("12345678");
    EXPECT_THROW(run(s2.readline()), asyncio::ValueError);
    s2.feed_data("y");
    EXPECT_EQ(run(s2.read(100)), "y");
}

// test_readline_nolimit_nowait
TEST_F(StreamReaderTest, ReadlineNoWait) {
    StreamReader stream;
    stream.feed_data(DATA.substr(0, 6));
    stream.feed_data(DATA.substr(6));
    EXPECT_EQ(run(stream.readline()), "line1\n");
    EXPECT_EQ(run(stream.read(100)), "line2\nline3\n");
}

// test_readline_eof, test_readline_empty_eof
TEST_F(StreamReaderTest, ReadlineEof) {
    StreamReader stream;
    stream.feed_data("some data");
    stream.feed_eof();
    EXPECT_EQ(run(stream.readline()), "some data");
    StreamReader empty;
    empty.feed_eof();
    EXPECT_EQ(run(empty.readline()), "");
}

// test_readline_read_byte_count
TEST_F(StreamReaderTest, ReadlineReadByteCount) {
    StreamReader stream;
    stream.feed_data(DATA);
    run(stream.readline());
    EXPECT_EQ(run(stream.read(7)), "line2\nl");
    EXPECT_EQ(run(stream.read(100)), "ine3\n");
}

// test_readline_exception
TEST_F(StreamReaderTest, ReadlineException) {
    StreamReader stream;
    stream.feed_data("line\n");
    EXPECT_EQ(run(stream.readline()), "line\n");
    stream.set_exception(std::make_exception_ptr(asyncio::ValueError("x")));
    EXPECT_THROW(run(stream.readline()), asyncio::ValueError);
}

// test_readuntil_separator
TEST_F(StreamReaderTest, ReaduntilEmptySeparator) {
    StreamReader stream;
    EXPECT_THROW(run(stream.readuntil("")), asyncio::ValueError);
}

// test_readuntil_multi_chunks
TEST_F(StreamReaderTest, ReaduntilMultiChunks) {
    StreamReader stream;
    stream.feed_data("lineAAA");
    EXPECT_EQ(run(stream.readuntil("AAA")), "lineAAA");
    stream.feed_data("lineAAAxxx");
    EXPECT_EQ(run(stream.readuntil("AAA")), "lineAAA");
    EXPECT_EQ(run(stream.read(100)), "xxx");
}

// test_readuntil_multi_chunks_1
TEST_F(StreamReaderTest, ReaduntilSeparatorAcrossChunks) {
    StreamReader stream;
    stream.feed_data("QWEaa");
    stream.feed_data("XYaa");
    stream.feed_data("a");
    EXPECT_EQ(run(stream.readuntil("aaa")), "QWEaaXYaaa");
    stream.feed_data("XYa");
    stream.feed_data("aa");
    EXPECT_EQ(run(stream.readuntil("aaa")), "XYaaa");
}

// test_readuntil_eof
TEST_F(StreamReaderTest, ReaduntilEof) {
    StreamReader stream;
    stream.feed_data("some dataAA");
    stream.feed_eof();
    try {
        run(stream.readuntil("AAA"));
        FAIL();
    } catch (const asyncio::IncompleteReadError& e) {
        EXPECT_EQ(e.partial(), "some dataAA");
        EXPECT_FALSE(e.expected().has_value());
    }
    EXPECT_EQ(run(stream.read(100)), "");
}

// test_readuntil_limit_found_sep
TEST_F(StreamReaderTest, ReaduntilLimitFoundSeparator) {
    StreamReader stream(3);
    stream.feed_data("some dataAA");
    try {
        run(stream.readuntil("AAA"));
        FAIL();
    } catch (const asyncio::LimitOverrunError& e) {
        EXPECT_STREQ(e.what(), "Separator is not found, and chunk exceed the limit");
        EXPECT_EQ(e.consumed(), 9u);
    }
    stream.feed_data("A");
    try {
        run(stream.readuntil("AAA"));
        FAIL();
    } catch (const asyncio::LimitOverrunError& e) {
        EXPECT_STREQ(e.what(), "Separator is found, but chunk is longer than limit");
        EXPECT_EQ(e.consumed(), 9u);
    }
    EXPECT_EQ(run(stream.read(100)), "some dataAAA"); // the data stays buffered
}

// test_readexactly_zero_or_less, test_readexactly
TEST_F(StreamReaderTest, Readexactly) {
    StreamReader stream;
    stream.feed_data(DATA);
    EXPECT_EQ(run(stream.readexactly(0)), "");
    StreamReader s2;
    auto f2 = [s2]() mutable {
        s2.feed_data(DATA);
        s2.feed_data(DATA);
        s2.feed_data(DATA);
    };
    EXPECT_EQ(read_with(s2.readexactly(2 * DATA.size()), f2), DATA + DATA);
    EXPECT_EQ(run(s2.read(100)), DATA);
}

// test_readexactly_limit
TEST_F(StreamReaderTest, ReadexactlyIgnoresLimit) {
    StreamReader stream(3);
    stream.feed_data("chunk");
    EXPECT_EQ(run(stream.readexactly(5)), "chunk");
}

// test_readexactly_eof
TEST_F(StreamReaderTest, ReadexactlyEof) {
    StreamReader stream;
    auto feed = [stream]() mutable {
        stream.feed_data(DATA);
        stream.feed_eof();
    };
    auto task = loop->create_task(stream.readexactly(2 * DATA.size()));
    loop->call_soon(feed);
    try {
        loop->run_until_complete(task);
        FAIL();
    } catch (const asyncio::IncompleteReadError& e) {
        EXPECT_EQ(e.partial(), DATA);
        EXPECT_EQ(e.expected(), 2 * DATA.size());
        EXPECT_STREQ(e.what(), "18 bytes read on a total of 36 expected bytes");
    }
    EXPECT_EQ(run(stream.read(100)), "");
}

// test_readexactly_exception
TEST_F(StreamReaderTest, ReadexactlyException) {
    StreamReader stream;
    stream.feed_data("line\n");
    EXPECT_EQ(run(stream.readexactly(2)), "li");
    stream.set_exception(std::make_exception_ptr(asyncio::ValueError("x")));
    EXPECT_THROW(run(stream.readexactly(2)), asyncio::ValueError);
}

// test_exception, test_exception_waiter
TEST_F(StreamReaderTest, ExceptionWakesWaiter) {
    StreamReader stream;
    EXPECT_FALSE(stream.exception());
    auto task = loop->create_task(stream.readline());
    loop->call_soon([stream]() mutable {
        stream.set_exception(std::make_exception_ptr(asyncio::ValueError("x")));
    });
    EXPECT_THROW(loop->run_until_complete(task), asyncio::ValueError);
    EXPECT_TRUE(stream.exception());
}

// test_exception_cancel
TEST_F(StreamReaderTest, CancelledReadThenException) {
    StreamReader stream;
    auto t = loop->create_task(stream.readline());
    run_until_idle();
    t.cancel();
    run_until_idle();
    EXPECT_TRUE(t.cancelled());
    stream.set_exception(std::make_exception_ptr(asyncio::ValueError("x")));
    EXPECT_THROW(run(stream.readline()), asyncio::ValueError);
}

// A cancelled readline() keeps its partial line: the next one gets all of it.
TEST_F(StreamReaderTest, CancelledReadlineKeepsPartialLine) {
    StreamReader stream;
    stream.feed_data("partial ");
    auto t = loop->create_task(stream.readline());
    run_until_idle();
    t.cancel();
    run_until_idle();
    EXPECT_TRUE(t.cancelled());
    stream.feed_data("line\n");
    EXPECT_EQ(run(stream.readline()), "partial line\n");
}

// Two reads at once: asyncio's RuntimeError.
TEST_F(StreamReaderTest, ConcurrentReadIsAnError) {
    StreamReader stream;
    auto t1 = loop->create_task(stream.read(10));
    run_until_idle();
    EXPECT_THROW(run(stream.read(10)), asyncio::RuntimeError);
    stream.feed_data("x");
    EXPECT_EQ(loop->run_until_complete(t1), "x");
}

// test_feed_data after feed_eof is refused.
TEST_F(StreamReaderTest, FeedAfterEof) {
    StreamReader stream;
    stream.feed_eof();
    EXPECT_THROW(stream.feed_data("x"), asyncio::RuntimeError);
}

} // namespace
