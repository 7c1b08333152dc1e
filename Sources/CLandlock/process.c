// SPDX-License-Identifier: Apache-2.0
//
// The sandboxed program's memory and the supervisor's threads' signal masks. Why C: the
// Swift Glibc module does not export process_vm_readv(2)/process_vm_writev(2) (_GNU_SOURCE),
// and pthread_sigmask with a full set needs sigfillset, a macro on some libcs.
#define _GNU_SOURCE
#include "clandlock_process.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

long clandlock_read_memory(pid_t pid, uint64_t remote, void *local, size_t length) {
    struct iovec l = {.iov_base = local, .iov_len = length};
    struct iovec r = {.iov_base = (void *)(uintptr_t)remote, .iov_len = length};
    return (long)process_vm_readv(pid, &l, 1, &r, 1, 0);
}

long clandlock_read_memory2(pid_t pid, uint64_t remote1, void *local1, size_t length1, uint64_t remote2,
                            void *local2, size_t length2) {
    struct iovec l[2] = {{.iov_base = local1, .iov_len = length1}, {.iov_base = local2, .iov_len = length2}};
    struct iovec r[2] = {{.iov_base = (void *)(uintptr_t)remote1, .iov_len = length1},
                         {.iov_base = (void *)(uintptr_t)remote2, .iov_len = length2}};
    return (long)process_vm_readv(pid, l, 2, r, 2, 0);
}

long clandlock_read_memory_prefix(pid_t pid, uint64_t remote, void *local, size_t length) {
    // process_vm_readv(2) never splits one remote iovec: one per page, so that a fault ends
    // the copy exactly at the first unreadable page.
    enum { pages = 1024 };
    struct iovec ranges[pages];
    size_t done = 0;
    while (done < length) {
        size_t batch = 0;
        int count = 0;
        while (count < pages && done + batch < length) {
            uint64_t address = remote + done + batch;
            size_t chunk = 4096 - (size_t)(address & 4095);
            if (chunk > length - done - batch) chunk = length - done - batch;
            ranges[count].iov_base = (void *)(uintptr_t)address;
            ranges[count].iov_len = chunk;
            batch += chunk;
            count++;
        }
        struct iovec into = {.iov_base = (char *)local + done, .iov_len = batch};
        ssize_t got = process_vm_readv(pid, &into, 1, ranges, (unsigned long)count, 0);
        if (got <= 0) break;
        done += (size_t)got;
        if ((size_t)got < batch) break;
    }
    return (long)done;
}

long clandlock_write_memory(pid_t pid, uint64_t remote, const void *local, size_t length) {
    struct iovec l = {.iov_base = (void *)local, .iov_len = length};
    struct iovec r = {.iov_base = (void *)(uintptr_t)remote, .iov_len = length};
    return (long)process_vm_writev(pid, &l, 1, &r, 1, 0);
}

long clandlock_read_scatter(pid_t pid, const uint64_t *remotes, const uint64_t *lengths, size_t count, void *local) {
    enum { maximum = 1024 };
    struct iovec ranges[maximum];
    size_t done = 0;
    for (size_t first = 0; first < count; first += maximum) {
        size_t batch = count - first < maximum ? count - first : maximum;
        size_t wanted = 0;
        for (size_t index = 0; index < batch; index++) {
            ranges[index].iov_base = (void *)(uintptr_t)remotes[first + index];
            ranges[index].iov_len = lengths[first + index];
            wanted += lengths[first + index];
        }
        if (wanted == 0) continue;
        struct iovec into = {.iov_base = (char *)local + done, .iov_len = wanted};
        ssize_t got = process_vm_readv(pid, &into, 1, ranges, (unsigned long)batch, 0);
        if (got <= 0) break;
        done += (size_t)got;
        if ((size_t)got < wanted) break;
    }
    return (long)done;
}

int clandlock_block_all_signals(void) {
    sigset_t all;
    sigfillset(&all);
    return pthread_sigmask(SIG_BLOCK, &all, NULL);
}

// The slice signal interrupts a blocking connect of the executor thread that armed the timer;
// its handler does nothing (no SA_RESTART: the call returns EINTR).
static void slice_handler(int signal_number) { (void)signal_number; }
static int slice_ready;
static pthread_once_t slice_once = PTHREAD_ONCE_INIT;
static void slice_install(void) {
    struct sigaction current;
    if (sigaction(SIGRTMAX - 1, NULL, &current) != 0 || current.sa_handler != SIG_DFL) return;  // the host's
    struct sigaction action = {0};
    action.sa_handler = slice_handler;
    sigemptyset(&action.sa_mask);
    slice_ready = sigaction(SIGRTMAX - 1, &action, NULL) == 0;
}

// Each thread's slice timer, made on its first connect and deleted when it exits (a POSIX
// timer belongs to the process, not to the thread that made it).
static pthread_key_t slice_key;
static void slice_timer_delete(void *timer) { timer_delete((timer_t)timer); }
static void slice_key_make(void) {
    if (pthread_key_create(&slice_key, slice_timer_delete) != 0) slice_ready = 0;
}

int clandlock_connect_slice(int fd, const void *address, unsigned int length, int milliseconds) {
    pthread_once(&slice_once, slice_install);
    static pthread_once_t key_once = PTHREAD_ONCE_INIT;
    if (slice_ready) pthread_once(&key_once, slice_key_make);
    if (!slice_ready) return connect(fd, address, length);
    timer_t timer = (timer_t)pthread_getspecific(slice_key);
    if (timer == NULL) {
        struct sigevent event = {0};
        event.sigev_notify = SIGEV_THREAD_ID;
        event.sigev_signo = SIGRTMAX - 1;
        event._sigev_un._tid = (pid_t)syscall(SYS_gettid);
        if (timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) return connect(fd, address, length);
        if (pthread_setspecific(slice_key, (void *)timer) != 0) {
            timer_delete(timer);
            return connect(fd, address, length);
        }
    }
    struct itimerspec slice = {0}, off = {0};
    slice.it_value.tv_sec = milliseconds / 1000;
    slice.it_value.tv_nsec = (long)(milliseconds % 1000) * 1000000L;
    slice.it_interval = slice.it_value;  // again, should the first one come before the wait
    sigset_t only, saved;
    sigemptyset(&only);
    sigaddset(&only, SIGRTMAX - 1);
    pthread_sigmask(SIG_UNBLOCK, &only, &saved);
    timer_settime(timer, 0, &slice, NULL);
    int result = connect(fd, address, length);
    int error = errno;
    timer_settime(timer, 0, &off, NULL);
    // Blocked again: one that came after the connect stays pending, and runs the handler (which
    // does nothing) when the next connect unblocks it, before that connect starts.
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    errno = error;
    return result;
}
