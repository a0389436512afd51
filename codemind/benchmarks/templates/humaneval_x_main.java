public class Main {
    public static void main(String[] args) throws Exception {
        Solution s = new Solution();
${setup}        System.out.println(${value});
    }
}
