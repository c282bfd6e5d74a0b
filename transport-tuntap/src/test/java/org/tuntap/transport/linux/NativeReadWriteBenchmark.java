package org.tuntap.transport.linux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.FileDescriptor;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunIoSystem;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;

import static org.tuntap.transport.spi.TunIoctl.IFF_NO_PI;
import static org.tuntap.transport.spi.TunIoctl.IFF_TUN;

/**
 * Not a test: a JMH-free measurement of the packet I/O path, run by hand as root in a network
 * namespace of its own (from transport-tuntap, after
 * {@code ../mvnw -q -pl transport-tuntap -am test-compile dependency:build-classpath
 * -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test} at the root):
 * <pre>
 * unshare --net -- sh -c 'ip link set lo up; java --enable-native-access=ALL-UNNAMED \
 *     -cp "target/test-classes:target/classes:target/classes/META-INF/versions/22:$(cat target/test-classpath.txt)" \
 *     org.tuntap.transport.linux.NativeReadWriteBenchmark'
 * </pre>
 * It compares this project's FFM downcalls ({@link LinuxTun#ioSystem()}) with Netty's JNI
 * ({@link FileDescriptor#readAddress}/{@link FileDescriptor#writeAddress}) on the same fd and
 * buffer, alternating rounds, and prints ops/s and the FFM/JNI ratio. Two operations: a read
 * on an empty fd (EAGAIN: the cost of the call itself), and the write of a 64-byte IPv4/UDP
 * packet that the kernel routes and drops (a real packet).
 */
public final class NativeReadWriteBenchmark {
    private static final int ROUNDS = 5;
    private static final long ROUND_NANOS = 1_000_000_000L;

    private NativeReadWriteBenchmark() {
    }

    interface Op {
        void run() throws IOException;
    }

    public static void main(String[] args) throws Exception {
        LinuxTun.ensureAvailability();
        Epoll.ensureAvailability();
        try (TunFd tun = TunFd.attach("bench%d", IFF_TUN | IFF_NO_PI)) {
            TunIoSystem io = tun.io;
            LinuxInterfaces interfaces = LinuxTun.interfaces();
            FileDescriptor jni = new FileDescriptor(tun.fd);
            ByteBuf readBuffer = PooledByteBufAllocator.DEFAULT.directBuffer(2048);
            // To an address of no route (forwarding is off): the kernel takes the packet and drops it.
            byte[] packet = Ipv4Udp.build(new byte[]{(byte) 198, 51, 100, 1}, 1000,
                    new byte[]{(byte) 203, 0, 113, 1}, 2000, new byte[64 - 28]);
            ByteBuf writeBuffer = PooledByteBufAllocator.DEFAULT.directBuffer(packet.length).writeBytes(packet);
            try {
                // Down, the device queues nothing for the fd: every read is EAGAIN.
                compare("read, EAGAIN",
                        () -> {
                            readBuffer.clear();
                            try {
                                io.read(tun.fd, readBuffer, 2048);
                            } catch (ErrnoException e) {
                                if (!e.isWouldBlock()) {
                                    throw e;
                                }
                            }
                        },
                        () -> {
                            if (jni.readAddress(readBuffer.memoryAddress(), 0, 2048) != 0) {
                                throw new IllegalStateException("expected EAGAIN");
                            }
                        });
                interfaces.setIpv4Address(tun.name, (Inet4Address) InetAddress.getByName("192.0.2.1"), 24);
                interfaces.setUp(tun.name, true);
                compare("write, 64-byte packet",
                        () -> io.write(tun.fd, writeBuffer),
                        () -> jni.writeAddress(writeBuffer.memoryAddress(), writeBuffer.readerIndex(), writeBuffer.writerIndex()));
            } finally {
                readBuffer.release();
                writeBuffer.release();
            }
        }
    }

    private static void compare(String name, Op ffm, Op jni) throws IOException {
        measure(ffm, ROUND_NANOS); // warm-up
        measure(jni, ROUND_NANOS);
        double ffmBest = 0;
        double jniBest = 0;
        for (int i = 0; i < ROUNDS; i++) {
            ffmBest = Math.max(ffmBest, measure(ffm, ROUND_NANOS));
            jniBest = Math.max(jniBest, measure(jni, ROUND_NANOS));
        }
        System.out.printf("%-24s FFM %,12.0f ops/s   Netty JNI %,12.0f ops/s   FFM/JNI %.2f%n",
                name, ffmBest, jniBest, ffmBest / jniBest);
    }

    /** Ops per second over about {@code nanos}. */
    private static double measure(Op op, long nanos) throws IOException {
        long start = System.nanoTime();
        long deadline = start + nanos;
        long ops = 0;
        long now;
        do {
            for (int i = 0; i < 1000; i++) {
                op.run();
            }
            ops += 1000;
            now = System.nanoTime();
        } while (now < deadline);
        return ops * 1e9 / (now - start);
    }
}
