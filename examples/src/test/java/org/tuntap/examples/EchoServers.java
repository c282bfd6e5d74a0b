package org.tuntap.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A TCP and a UDP echo on one address and port, with the JDK's blocking sockets: the far side of
 * {@link TunUdpTunnelNativeTest}, run in the other network namespace. Prints {@code listening},
 * echoes until killed.
 *
 * <pre>java -cp ... org.tuntap.examples.EchoServers ADDRESS PORT</pre>
 */
public final class EchoServers {
    private EchoServers() {
    }

    public static void main(String[] args) throws IOException {
        InetSocketAddress at = new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1]));
        ServerSocket tcp = new ServerSocket();
        tcp.bind(at);
        DatagramSocket udp = new DatagramSocket(at);
        Thread udpEcho = new Thread(() -> {
            byte[] buffer = new byte[65536];
            try {
                for (;;) {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    udp.receive(packet);
                    udp.send(packet);
                }
            } catch (IOException e) {
                e.printStackTrace();
            }
        }, "udp-echo");
        udpEcho.start();
        System.out.println("listening on " + at);
        System.out.flush();
        for (;;) {
            Socket connection = tcp.accept();
            Thread tcpEcho = new Thread(() -> {
                try (connection; InputStream in = connection.getInputStream(); OutputStream out = connection.getOutputStream()) {
                    in.transferTo(out);
                } catch (IOException e) {
                    e.printStackTrace();
                }
            }, "tcp-echo");
            tcpEcho.setDaemon(true);
            tcpEcho.start();
        }
    }
}
