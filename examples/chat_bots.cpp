// Three scripted clients of the chat server on 127.0.0.1:8888 (or the port given as the first
// argument): they join, talk and leave, each printing what it receives. Every step waits for
// its deliveries, under one timeout for the whole script.
#include <asyncio.hpp>
#include <iostream>
#include <string>

struct Bot {
    std::string name;
    asyncio::StreamReader reader;
    asyncio::StreamWriter writer;

    // Prints the next line this bot receives.
    asyncio::Coro<> hear() {
        std::string line = co_await reader.readline();
        std::cout << "[" << name << "] " << line << std::flush;
    }
    void say(const std::string& text) { writer.write(text + "\n"); }
};

asyncio::Coro<Bot> join(std::string name, int port) {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    Bot bot{name, reader, writer};
    bot.say(name);
    co_await bot.hear(); // the welcome
    co_return bot;
}

asyncio::Coro<> chat(int port) {
    Bot alice = co_await join("alice", port);
    Bot bob = co_await join("bob", port);
    co_await alice.hear(); // bob joined
    Bot carol = co_await join("carol", port);
    co_await alice.hear(); // carol joined
    co_await bob.hear();
    alice.say("hi all");
    co_await bob.hear();
    co_await carol.hear();
    carol.say("hey alice");
    co_await alice.hear();
    co_await bob.hear();
    bob.writer.close(); // bob leaves
    co_await alice.hear();
    co_await carol.hear();
    alice.writer.close();
    co_await carol.hear(); // alice left
    carol.writer.close();
    co_await carol.writer.wait_closed();
}

asyncio::Coro<> script(int port) { co_await asyncio::wait_for(chat(port), 10); }

int main(int argc, char** argv) { asyncio::run(script(argc > 1 ? std::stoi(argv[1]) : 8888)); }
