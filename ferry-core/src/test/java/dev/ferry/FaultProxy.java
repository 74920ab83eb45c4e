package dev.ferry;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on a loopback port in front of PostgreSQL, for network faults a real server cannot produce by itself:
 * {@link Mode#STALL} stops forwarding bytes on every connection (a stalled network: the sockets stay open, nothing
 * arrives), {@link Mode#BLACK_HOLE} does that and also takes new connections without ever answering them, and
 * {@link #cut()} closes every connection at once (a network cut, seen as a reset). {@link Mode#FORWARD} passes
 * everything through.
 */
final class FaultProxy implements AutoCloseable {

    enum Mode { FORWARD, STALL, BLACK_HOLE }

    private final ServerSocket server;
    private final String upstreamHost;
    private final int upstreamPort;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile Mode mode = Mode.FORWARD;
    private volatile boolean closed;

    private FaultProxy(String upstreamHost, int upstreamPort) throws IOException {
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        this.upstreamHost = upstreamHost;
        this.upstreamPort = upstreamPort;
        Thread acceptor = new Thread(this::accept, "fault-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A proxy in front of the test database. */
    static FaultProxy forTestDatabase() throws IOException {
        String hostPort = Postgres.url().replaceFirst("^jdbc:postgresql://([^/]*)/.*$", "$1");
        String host = hostPort.contains(":") ? hostPort.substring(0, hostPort.lastIndexOf(':')) : hostPort;
        int port = hostPort.contains(":") ? Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1)) : 5432;
        return new FaultProxy(host, port);
    }

    /** The test database's URL, through this proxy. */
    String url() {
        return Postgres.url().replaceFirst("^jdbc:postgresql://[^/]*/", "jdbc:postgresql://127.0.0.1:"
                + server.getLocalPort() + "/");
    }

    void mode(Mode mode) {
        this.mode = mode;
    }

    /** Closes every connection through the proxy now; new ones are taken as the mode says. */
    void cut() {
        for (Socket s : sockets) {
            try {
                s.setSoLinger(true, 0); // a reset, as a cut network shows itself to the next write
                s.close();
            } catch (IOException ignored) {
                // closed already
            }
            sockets.remove(s); // one by one: a socket added meanwhile stays in the set, for the next cut or close
        }
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            sockets.add(client);
            Thread t = new Thread(() -> connect(client), "fault-proxy-connect");
            t.setDaemon(true);
            t.start();
        }
    }

    private void connect(Socket client) {
        while (mode == Mode.BLACK_HOLE && !closed && !client.isClosed()) {
            pause(); // taken, never answered
        }
        if (closed || client.isClosed()) {
            quietlyClose(client);
            return; // the client gave up while held in the black hole: no connection upstream for it
        }
        Socket upstream;
        try {
            upstream = new Socket(upstreamHost, upstreamPort);
        } catch (IOException e) {
            quietlyClose(client);
            return;
        }
        sockets.add(upstream);
        pump(client, upstream, "fault-proxy-up");
        pump(upstream, client, "fault-proxy-down");
    }

    private void pump(Socket from, Socket to, String name) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (;;) {
                    while (mode != Mode.FORWARD && !closed && !from.isClosed()) {
                        pause(); // stalled: nothing is read, so nothing arrives on the other side
                    }
                    int n = in.read(buffer);
                    if (n < 0) {
                        break;
                    }
                    while (mode != Mode.FORWARD && !closed && !from.isClosed()) {
                        pause(); // stalled with bytes in hand: they wait here
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (SocketException e) {
                // cut or closed
            } catch (IOException e) {
                // the other side went away
            } finally {
                quietlyClose(from);
                quietlyClose(to);
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }

    private static void pause() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void quietlyClose(Socket s) {
        sockets.remove(s);
        try {
            s.close();
        } catch (IOException ignored) {
            // closed already
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        cut();
    }
}
