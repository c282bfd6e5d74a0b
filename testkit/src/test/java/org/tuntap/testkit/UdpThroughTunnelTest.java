package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoctl;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tuntap.testkit.Tunnels.TAP;
import static org.tuntap.testkit.Tunnels.TAP_PI;
import static org.tuntap.testkit.Tunnels.TUN;
import static org.tuntap.testkit.Tunnels.TUN_PI;
import static org.tuntap.testkit.Tunnels.concat;

/** Twisted's sendUDP/receiveUDP: UDP datagrams from the network into a tunnel and back out. */
class UdpThroughTunnelTest {

    /**
     * IPv4 192.0.2.1 -> 198.51.100.7, UDP 21345 -> 12345, "hi", id 0, TTL 64, both checksums:
     * worked out by hand (the same arithmetic reproduces the reference check vector).
     */
    private static final byte[] HI_TO_198_51_100_7 = hex(
            "45 00 00 1e 00 00 00 00 40 11 8e 93 c0 00 02 01 c6 33 64 07 53 61 30 39 00 0a 27 9a 68 69");
    /** IPv4 198.51.100.7 -> 203.0.113.9, UDP 50000 -> 4789, "hello world", both checksums. */
    private static final byte[] HELLO_TO_203_0_113_9 = hex(
            "45 00 00 27 00 00 00 00 40 11 14 82 c6 33 64 07 cb 00 71 09 c3 50 12 b5 00 13 31 af"
                    + " 68 65 6c 6c 6f 20 77 6f 72 6c 64");
    /** Broadcast, from the network side's documentation MAC 00:00:5e:00:53:01, IPv4. */
    private static final byte[] ETHERNET_IPV4 = hex("ff ff ff ff ff ff 00 00 5e 00 53 01 08 00");
    private static final byte[] HELLO = "hello world".getBytes(StandardCharsets.US_ASCII);

    private final MemoryIoSystem system = new MemoryIoSystem();

    private static byte[] hex(String text) {
        return ByteBufUtil.decodeHexDump(text.replace(" ", ""));
    }

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] pi(int proto) {
        ByteBuffer header = ByteBuffer.allocate(4);
        header.order(ByteOrder.nativeOrder()).putShort(0, (short) 0);
        header.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) proto);
        return header.array();
    }

    /** The same datagram with another destination port (checksum fixed up by hand: port 4790). */
    private static byte[] helloToPort4790() {
        byte[] packet = HELLO_TO_203_0_113_9.clone();
        packet[23] = (byte) 0xb6; // 4789 -> 4790
        packet[26] = 0x31;        // UDP checksum 31af -> 31ae
        packet[27] = (byte) 0xae;
        return packet;
    }

    // ---- sendUdp ----

    @Test
    void sendUdpQueuesAnIpv4UdpDatagramFromTheDocumentationSource() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        InetSocketAddress source = system.sendUdp("hi".getBytes(StandardCharsets.US_ASCII),
                new InetSocketAddress(address("198.51.100.7"), 12345));
        assertEquals(new InetSocketAddress(address("192.0.2.1"), 21345), source);
        assertEquals(MemoryIoSystem.SEND_UDP_SOURCE, source);
        assertArrayEquals(HI_TO_198_51_100_7, system.read(fd, 1500));
    }

    @Test
    void sendUdpDatagramsReadWithPiCarryTheIpv4Header() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN_PI);
        system.sendUdp("hi".getBytes(StandardCharsets.US_ASCII), new InetSocketAddress(address("198.51.100.7"), 12345));
        assertArrayEquals(concat(pi(0x0800), HI_TO_198_51_100_7), system.read(fd, 1500));
    }

    @Test
    void sendUdpOnATapTunnelArrivesInAnEthernetFrame() throws ErrnoException {
        int fd = Tunnels.open(system, "tap%d", TAP_PI);
        system.sendUdp("hi".getBytes(StandardCharsets.US_ASCII), new InetSocketAddress(address("198.51.100.7"), 12345));
        // The network first asks who has 198.51.100.7 (from the datagram's source, 192.0.2.1) ...
        assertArrayEquals(concat(pi(0x0806), hex("ff ff ff ff ff ff 00 00 5e 00 53 01 08 06 0001 0800 06 04 0001"
                + "00 00 5e 00 53 01 c0 00 02 01 00 00 00 00 00 00 c6 33 64 07")), system.read(fd, 1500));
        // ... and once the program answers, sends the datagram to the MAC it gave.
        system.write(fd, concat(pi(0x0806), hex("00 00 5e 00 53 01 02 00 00 00 00 02 08 06 0001 0800 06 04 0002"
                + "02 00 00 00 00 02 c6 33 64 07 00 00 5e 00 53 01 c0 00 02 01")));
        assertArrayEquals(concat(pi(0x0800), hex("02 00 00 00 00 02 00 00 5e 00 53 01 08 00"), HI_TO_198_51_100_7),
                system.read(fd, 1500));
    }

    @Test
    void sendUdpFromAChosenSourceTakesAByteBufAndLeavesItAlone() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        ByteBuf payload = Unpooled.copiedBuffer(HELLO);
        try {
            InetSocketAddress source = new InetSocketAddress(address("198.51.100.7"), 50000);
            assertEquals(source, system.sendUdp(payload, source, new InetSocketAddress(address("203.0.113.9"), 4789)));
            assertEquals(0, payload.readerIndex());
            assertEquals(1, payload.refCnt());
        } finally {
            payload.release();
        }
        assertArrayEquals(HELLO_TO_203_0_113_9, system.read(fd, 1500));
    }

    @Test
    void sendUdpGoesToTheFirstOpenAttachedTunnel() throws ErrnoException {
        system.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT); // never attached: skipped
        int first = Tunnels.open(system, "tun%d", TUN);
        int second = Tunnels.open(system, "tun%d", TUN);
        InetSocketAddress to = new InetSocketAddress(address("198.51.100.7"), 12345);
        system.sendUdp("hi".getBytes(StandardCharsets.US_ASCII), to);
        assertEquals(1, system.tunnel(first).readBufferSize());
        assertEquals(0, system.tunnel(second).readBufferSize());
        system.close(first);
        system.sendUdp("hi".getBytes(StandardCharsets.US_ASCII), to);
        assertArrayEquals(HI_TO_198_51_100_7, system.read(second, 1500));
    }

    @Test
    void sendUdpWithoutAnAttachedTunnelOrToIpv6IsRefused() throws ErrnoException {
        InetSocketAddress to = new InetSocketAddress(address("198.51.100.7"), 12345);
        assertThrows(IllegalStateException.class, () -> system.sendUdp(HELLO, to));
        Tunnels.open(system, "tun%d", TUN);
        assertThrows(IllegalArgumentException.class,
                () -> system.sendUdp(HELLO, new InetSocketAddress(address("2001:db8::1"), 12345)));
        assertThrows(IllegalArgumentException.class, () -> system.sendUdp(new byte[65_508], to));
        assertEquals(0, system.tunnels().get(0).readBufferSize());
    }

    // ---- receiveUdp ----

    @Test
    void receiveUdpReturnsThePayloadOfADatagramWrittenToItsAddress() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        UdpReceiver receiver = system.receiveUdp(fd, address("203.0.113.9"), 4789);
        system.write(fd, HELLO_TO_203_0_113_9);
        assertEquals(1, receiver.available());
        assertArrayEquals(HELLO, receiver.recv(1024));
        assertEquals(0, system.tunnel(fd).writeBufferSize(), "received datagrams leave the write buffer");
        assertThrows(NoSuchElementException.class, () -> receiver.recv(1024));
    }

    @Test
    void recvFromReportsTheSender() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        system.write(fd, HELLO_TO_203_0_113_9);
        UdpReceiver.Datagram datagram = system.receiveUdp(fd, address("203.0.113.9"), 4789).recvFrom(1024);
        assertArrayEquals(HELLO, datagram.payload());
        assertEquals(new InetSocketAddress(address("198.51.100.7"), 50000), datagram.sender());
    }

    @Test
    void recvCutsThePayloadLikeASocket() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        system.write(fd, HELLO_TO_203_0_113_9);
        assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII),
                system.receiveUdp(fd, address("203.0.113.9"), 4789).recv(5));
        assertEquals(0, system.tunnel(fd).writeBufferSize());
    }

    @Test
    void onlyDatagramsToTheGivenHostAndPortAreReceived() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        Tunnel tunnel = system.tunnel(fd);
        system.write(fd, helloToPort4790());
        system.write(fd, HI_TO_198_51_100_7);
        system.write(fd, HELLO_TO_203_0_113_9);
        UdpReceiver receiver = system.receiveUdp(fd, address("203.0.113.9"), 4789);
        assertEquals(1, receiver.available());
        assertArrayEquals(HELLO, receiver.recv(1024));
        assertEquals(2, tunnel.writeBufferSize());
        assertArrayEquals(helloToPort4790(), tunnel.takeWritten(), "the others stay, in order");
        assertArrayEquals(HI_TO_198_51_100_7, tunnel.takeWritten());

        system.write(fd, HI_TO_198_51_100_7);
        assertThrows(NoSuchElementException.class, () -> system.receiveUdp(fd, address("198.51.100.7"), 4789).recv(9));
        assertThrows(NoSuchElementException.class, () -> system.receiveUdp(fd, address("198.51.100.8"), 12345).recv(9));
        assertArrayEquals("hi".getBytes(StandardCharsets.US_ASCII),
                system.receiveUdp(fd, address("198.51.100.7"), 12345).recv(9));
    }

    @Test
    void datagramsAreReceivedOldestFirst() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        byte[] second = HELLO_TO_203_0_113_9.clone();
        second[38] = 'D';  // "hello worlD": the word "lD" sums 0x2000 less
        second[26] = 0x51; // so the UDP checksum goes 31af -> 51af
        second[27] = (byte) 0xaf;
        system.write(fd, HELLO_TO_203_0_113_9);
        system.write(fd, second);
        UdpReceiver receiver = system.receiveUdp(fd, address("203.0.113.9"), 4789);
        assertEquals(2, receiver.available());
        assertArrayEquals(HELLO, receiver.recv(100));
        assertArrayEquals("hello worlD".getBytes(StandardCharsets.US_ASCII), receiver.recv(100));
    }

    @Test
    void aDatagramWithABadChecksumIsNotReceivedAsARealStackWouldDropIt() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        byte[] corrupt = HELLO_TO_203_0_113_9.clone();
        corrupt[30] ^= 0x01;
        system.write(fd, corrupt);
        assertThrows(NoSuchElementException.class, () -> system.receiveUdp(fd, address("203.0.113.9"), 4789).recv(100));
        assertEquals(1, system.tunnel(fd).writeBufferSize());
    }

    @Test
    void withPiTheHeaderIsStrippedAndMustSayIpv4() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN_PI);
        UdpReceiver receiver = system.receiveUdp(fd, address("203.0.113.9"), 4789);
        system.write(fd, concat(pi(0x86DD), HELLO_TO_203_0_113_9));
        assertEquals(0, receiver.available(), "the kernel would take it for IPv6");
        system.write(fd, concat(pi(0x0800), HELLO_TO_203_0_113_9));
        assertArrayEquals(HELLO, receiver.recv(100));
        assertEquals(1, system.tunnel(fd).writeBufferSize());
    }

    @Test
    void onATapTunnelTheEthernetHeaderIsStripped() throws ErrnoException {
        int fd = Tunnels.open(system, "tap%d", TAP);
        UdpReceiver receiver = system.receiveUdp(fd, address("203.0.113.9"), 4789);
        byte[] arp = concat(hex("ff ff ff ff ff ff 02 00 00 00 00 01 08 06"), new byte[28]);
        system.write(fd, arp);
        system.write(fd, concat(hex("02 00 00 00 00 02 02 00 00 00 00 01 08 00"), HELLO_TO_203_0_113_9));
        assertArrayEquals(HELLO, receiver.recv(100));
        assertArrayEquals(arp, system.tunnel(fd).takeWritten(), "ARP stays for the test to answer");
    }

    @Test
    void onATapTunnelWithPiBothHeadersAreStripped() throws ErrnoException {
        int fd = Tunnels.open(system, "tap%d", TAP_PI);
        system.write(fd, concat(pi(0x0800), ETHERNET_IPV4, HELLO_TO_203_0_113_9));
        assertArrayEquals(HELLO, system.receiveUdp(fd, address("203.0.113.9"), 4789).recv(100));
    }

    @Test
    void receivingMakesRoomAndWakesAWaitingWriter() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        Tunnel tunnel = system.tunnel(fd);
        tunnel.setWriteCapacity(1);
        system.write(fd, HELLO_TO_203_0_113_9);
        AtomicInteger wakeUps = new AtomicInteger();
        tunnel.setReadinessListener(wakeUps::incrementAndGet);
        assertTrue(!tunnel.isWritable());
        system.receiveUdp(fd, address("203.0.113.9"), 4789).recv(100);
        assertEquals(1, wakeUps.get());
        assertTrue(tunnel.isWritable());
    }

    @Test
    void aRoundTripThroughTheTunnel() throws ErrnoException {
        // The program echoes what it reads: swap addresses and ports, as a UDP echo would.
        int fd = Tunnels.open(system, "tun%d", TUN);
        InetSocketAddress server = new InetSocketAddress(address("203.0.113.9"), 4789);
        InetSocketAddress client = system.sendUdp(HELLO, server);
        byte[] request = system.read(fd, 1500);
        byte[] reply = request.clone();
        System.arraycopy(request, 16, reply, 12, 4);
        System.arraycopy(request, 12, reply, 16, 4);
        System.arraycopy(request, 22, reply, 20, 2);
        System.arraycopy(request, 20, reply, 22, 2);
        // Both checksums are sums of 16-bit words: swapping words leaves them valid.
        system.write(fd, reply);
        UdpReceiver.Datagram echoed = system.receiveUdp(fd, client.getAddress(), client.getPort()).recvFrom(1500);
        assertArrayEquals(HELLO, echoed.payload());
        assertEquals(server, echoed.sender());
    }

    @Test
    void receiveUdpChecksItsArguments() throws ErrnoException {
        int fd = Tunnels.open(system, "tun%d", TUN);
        assertThrows(IllegalArgumentException.class, () -> system.receiveUdp(fd + 1, address("203.0.113.9"), 1));
        assertThrows(IllegalArgumentException.class, () -> system.receiveUdp(fd, address("2001:db8::9"), 1));
        assertThrows(IllegalArgumentException.class, () -> system.receiveUdp(fd, address("203.0.113.9"), 65_536));
        assertThrows(IllegalArgumentException.class, () -> system.receiveUdp(fd, address("203.0.113.9"), 1).recv(-1));
    }
}
