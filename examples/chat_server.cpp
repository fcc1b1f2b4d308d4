// A chat server: each client sends its name first, then lines; every line goes to everyone
// else. Listens on 127.0.0.1:8888, or on the port given as the first argument (0: any free
// port); try it with a few `nc 127.0.0.1 8888`. Ctrl-C stops it.
#include <asyncio.hpp>
#include <iostream>
#include <map>
#include <string>

class Chat {
public:
    // Sends `line` to every member but `from`. A member that does not read is not allowed to
    // make the server hold unbounded memory: past 1 MiB waiting for it, it is disconnected.
    void broadcast(const std::string& from, const std::string& line) {
        for (auto& [name, writer] : m_members) {
            if (name == from)
                continue;
            writer.write(line);
            if (writer.transport().get_write_buffer_size() > 1024 * 1024)
                writer.transport().abort();
        }
    }

    asyncio::Coro<> serve(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
        std::string name = co_await reader.readline();
        while (!name.empty() && (name.back() == '\n' || name.back() == '\r'))
            name.pop_back();
        if (name.empty() || m_members.count(name)) {
            writer.write("choose another name\n");
            writer.close();
            co_return;
        }
        writer.write("welcome " + name + ", " + std::to_string(m_members.size()) +
                     " other(s) here\n");
        broadcast(name, name + " joined\n");
        m_members.emplace(name, writer);
        std::cout << name << " joined (" << m_members.size() << " connected)" << std::endl;
        try {
            for (;;) {
                std::string line = co_await reader.readline();
                if (line.empty())
                    break; // the client closed
                broadcast(name, name + ": " + line);
                std::cout << name << " said " << line.size() << " byte(s)" << std::endl;
            }
        } catch (const asyncio::OSError&) { // reset by the client
        }
        m_members.erase(name);
        broadcast(name, name + " left\n");
        std::cout << name << " left (" << m_members.size() << " connected)" << std::endl;
        writer.close();
    }

private:
    std::map<std::string, asyncio::StreamWriter> m_members;
};

asyncio::Coro<> amain(int port) {
    Chat chat;
    auto handler = [&chat](asyncio::StreamReader reader, asyncio::StreamWriter writer) {
        return chat.serve(std::move(reader), std::move(writer));
    };
    auto server = co_await asyncio::start_server(handler, "127.0.0.1", port);
    std::cout << "Serving on " << server.sockets().at(0).str() << std::endl;
    co_await server.serve_forever();
}

int main(int argc, char** argv) {
    try {
        asyncio::run(amain(argc > 1 ? std::stoi(argv[1]) : 8888));
    } catch (const asyncio::KeyboardInterrupt&) {
        std::cout << "Stopped" << std::endl;
    }
}
